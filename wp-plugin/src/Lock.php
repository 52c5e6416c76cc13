<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * A lock across PHP processes (two WP-Cron runs at once: a system crontab starting a run while
 * the last one is still going, or wp-cron.php after a run outlasted WP_CRON_LOCK_TIMEOUT).
 *
 * One row of wp_options, created with INSERT IGNORE: the database lets one process in. It holds
 * its expiry, so a process that died holding it only delays the next run; release() deletes it
 * only if it is still this process's. The row is never read through get_option() (no cache).
 */
final class Lock
{
    private function __construct(private string $option, private string $value)
    {
    }

    /** Take the lock `$name` for at most `$seconds`; null while another process holds it. */
    public static function acquire(string $name, int $seconds): ?self
    {
        global $wpdb;
        $option = 'gardien_lock_' . $name;
        $value = (time() + $seconds) . ':' . wp_generate_password(20, false);
        $taken = $wpdb->query($wpdb->prepare(
            "INSERT IGNORE INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')",
            $option,
            $value
        ));
        if ($taken === 1) {
            return new self($option, $value);
        }
        $held = $wpdb->get_var($wpdb->prepare(
            "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s",
            $option
        ));
        if (is_string($held) && (int) explode(':', $held)[0] < time()) {
            // Expired: its holder died. Take it over, unless another process has just done so.
            $taken = $wpdb->query($wpdb->prepare(
                "UPDATE {$wpdb->options} SET option_value = %s WHERE option_name = %s AND option_value = %s",
                $value,
                $option,
                $held
            ));
            if ($taken === 1) {
                return new self($option, $value);
            }
        }
        return null;
    }

    public function release(): void
    {
        global $wpdb;
        $wpdb->query($wpdb->prepare(
            "DELETE FROM {$wpdb->options} WHERE option_name = %s AND option_value = %s",
            $this->option,
            $this->value
        ));
    }
}
