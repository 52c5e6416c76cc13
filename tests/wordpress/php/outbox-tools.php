<?php

/**
 * Test driver for the outbox tests: `php outbox-tools.php COMMAND < input.json` runs one command
 * inside the test WordPress and prints a JSON answer.
 *
 * - options: Gardien's rows of wp_options as stored (raw values), to see what a dump holds.
 * - keyring: the ids of the sealing keys the plugin remembers, and the current one.
 * - forget-counts: forgets the entries that could not be stored and the refused signature.
 * - age-failed: failed rows were refused `seconds` earlier than they were.
 * - cron-event: runs the delivery event the way `wp cron event run --due-now` of a system
 *   crontab does (WP-CLI takes no lock), after waiting until `start_at` (a shared start line
 *   for two processes). With `slow_delete_ms`, every DELETE from the visit buffer waits that
 *   long first: a slow database, so that two overlapping runs surely overlap.
 */

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';

$gardien_command = $argv[1] ?? '';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];

/** @param mixed $value */
function gardien_tools_answer($value): void
{
    echo wp_json_encode($value), "\n";
    exit(0);
}

switch ($gardien_command) {
    case 'options':
        global $wpdb;
        gardien_tools_answer($wpdb->get_results(
            "SELECT option_name, option_value, autoload FROM {$wpdb->options}
             WHERE option_name LIKE '%gardien%' ORDER BY option_name",
            ARRAY_A
        ));
        // No break: the answer exits.
    case 'keyring':
        $gardien_ring = get_option(\Gardien\Keyring::OPTION, []);
        gardien_tools_answer([
            'current' => $gardien_ring['current'] ?? null,
            'keys' => array_keys((array) ($gardien_ring['keys'] ?? [])),
        ]);
    case 'forget-counts':
        delete_option('gardien_unstored_submissions');
        delete_option('gardien_signature_refused');
        gardien_tools_answer(['ok' => true]);
    case 'age-failed':
        global $wpdb;
        $seconds = (int) $gardien_input['seconds'];
        $wpdb->query($wpdb->prepare(
            'UPDATE ' . \Gardien\Outbox::table() . " SET last_attempt_at = last_attempt_at - INTERVAL %d SECOND,
             created_at = created_at - INTERVAL %d SECOND WHERE status = 'failed'",
            $seconds,
            $seconds
        ));
        gardien_tools_answer(['ok' => true]);
    case 'cron-event':
        $gardien_delay = (int) ($gardien_input['slow_delete_ms'] ?? 0);
        if ($gardien_delay > 0) {
            add_filter('query', function ($query) use ($gardien_delay) {
                if (stripos($query, 'DELETE FROM ' . \Gardien\VisitBuffer::table()) === 0) {
                    usleep($gardien_delay * 1000);
                }
                return $query;
            });
        }
        $gardien_start = (float) ($gardien_input['start_at'] ?? 0);
        while (microtime(true) < $gardien_start) {
            usleep(2000);
        }
        do_action(\Gardien\Outbox::CRON_HOOK);
        gardien_tools_answer(['ok' => true]);
    default:
        fwrite(STDERR, "unknown command: {$gardien_command}\n");
        exit(2);
}
