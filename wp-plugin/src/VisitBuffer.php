<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Page views waiting to be batched: one sealed row per visit, written on the visitor's request
 * (one INSERT, no HTTP), moved by WP-Cron into outbox batches of at most 500 events. One process
 * at a time moves them (Lock): two cron runs reading the same rows would count them twice.
 *
 * No address stays here for long: a page view buffered more than a day ago (cron did not run)
 * leaves without its address and user agent, and the buffer keeps at most a filterable number
 * of rows, dropping the oldest page views first (contact messages never wait here).
 */
final class VisitBuffer
{
    public const BATCH_SIZE = 500;
    /** The service's limit is 1 MiB; stay well under it whatever the URLs look like. */
    public const BATCH_BYTES = 900000;
    private const BATCHES_PER_RUN = 20;
    /** Longer than a flush can take; a run that died holding the lock delays the next by this. */
    private const LOCK_SECONDS = 300;
    /** Rows kept at most; the `gardien_visit_buffer_max_rows` filter changes it. */
    public const MAX_ROWS = 50000;
    /** After this, a buffered page view is sent without the visitor's address and user agent. */
    public const IDENTIFYING_SECONDS = DAY_IN_SECONDS;

    public function __construct(private Settings $settings)
    {
    }

    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'gardien_visits';
    }

    /** @param array<string, string> $event one contract stats event */
    public function add(array $event): bool
    {
        global $wpdb;
        if (!$this->settings->isConfigured()) {
            return false;
        }
        $json = wp_json_encode($event, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        if (!is_string($json)) {
            return false;
        }
        $inserted = $wpdb->insert(self::table(), [
            'payload' => (new Keyring($this->settings))->current()->seal($json),
            'created_at' => Outbox::now(),
        ]) === 1;
        // The cap is checked every hundredth row (every row for a small cap): one indexed query.
        $cap = self::maxRows();
        if ($inserted && (int) $wpdb->insert_id % max(1, min(100, intdiv($cap, 100))) === 0) {
            self::enforceCap($cap);
        }
        return $inserted;
    }

    /** How many page views the buffer keeps at most (at least one). */
    public static function maxRows(): int
    {
        /**
         * Filters how many page views may wait in the visit buffer; beyond it the oldest are
         * dropped (when WP-Cron has not run for a long time).
         *
         * @param int $rows 50000 by default
         */
        return max(1, (int) apply_filters('gardien_visit_buffer_max_rows', self::MAX_ROWS));
    }

    /** Drop the oldest page views beyond `$cap` rows. Returns how many were dropped. */
    public static function enforceCap(?int $cap = null): int
    {
        global $wpdb;
        $edge = $wpdb->get_var($wpdb->prepare(
            "SELECT id FROM {$wpdb->prefix}gardien_visits ORDER BY id DESC LIMIT 1 OFFSET %d",
            $cap ?? self::maxRows()
        ));
        if ($edge === null) {
            return 0;
        }
        return (int) $wpdb->query($wpdb->prepare(
            "DELETE FROM {$wpdb->prefix}gardien_visits WHERE id <= %d",
            (int) $edge
        ));
    }

    /**
     * The event as it leaves: without address and user agent once it has waited too long.
     *
     * @param array<string, mixed> $event
     * @return array<string, mixed>
     */
    public static function aged(array $event, string $createdAt, ?int $now = null): array
    {
        if (self::isStale(strtotime($createdAt . ' UTC'), $now)) {
            unset($event['ip'], $event['user_agent']);
        }
        return $event;
    }

    /**
     * A batch of page views waiting in the outbox, as JSON, without the address and user agent
     * of its page views older than a day (by their own time); null when nothing had to change.
     */
    public static function agedBatch(string $body, ?int $now = null): ?string
    {
        $batch = json_decode($body, true);
        if (!is_array($batch) || !is_array($batch['events'] ?? null)) {
            return null;
        }
        $changed = false;
        foreach ($batch['events'] as $index => $event) {
            $identifying = is_array($event) && (isset($event['ip']) || isset($event['user_agent']));
            if ($identifying && self::isStale(strtotime((string) ($event['ts'] ?? '')), $now)) {
                unset($batch['events'][$index]['ip'], $batch['events'][$index]['user_agent']);
                $changed = true;
            }
        }
        return $changed
            ? (string) wp_json_encode($batch, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)
            : null;
    }

    /** @param int|false $time when a page view was seen; false when unknown (then it is stale) */
    private static function isStale($time, ?int $now): bool
    {
        return $time === false || $time < ($now ?? time()) - self::IDENTIFYING_SECONDS;
    }

    /**
     * Move buffered visits into outbox batches. Returns the number of batches queued, 0 as well
     * when another process is doing it. A batch is queued before its visits are deleted, so a
     * crash in between can only repeat visits, never lose them.
     */
    public function flush(Outbox $outbox): int
    {
        if (!$this->settings->isConfigured()) {
            return 0;
        }
        $lock = Lock::acquire('visits', self::LOCK_SECONDS);
        if ($lock === null) {
            return 0;
        }
        try {
            return $this->flushLocked($outbox);
        } finally {
            $lock->release();
        }
    }

    private function flushLocked(Outbox $outbox): int
    {
        global $wpdb;
        self::enforceCap();
        $keyring = new Keyring($this->settings);
        $batches = 0;
        for ($run = 0; $run < self::BATCHES_PER_RUN; $run++) {
            $rows = $wpdb->get_results($wpdb->prepare(
                "SELECT id, payload, created_at FROM {$wpdb->prefix}gardien_visits ORDER BY id LIMIT %d",
                self::BATCH_SIZE
            ), ARRAY_A);
            if (!$rows) {
                break;
            }
            $events = [];
            $ids = [];
            $bytes = 0;
            foreach ($rows as $row) {
                $plain = $keyring->open((string) $row['payload']);
                $event = $plain === null ? null : json_decode($plain, true);
                if (is_array($event)) {
                    $event = self::aged($event, (string) $row['created_at']);
                    $plain = (string) wp_json_encode($event, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
                    $bytes += strlen($plain) + 1;
                    if ($events !== [] && $bytes > self::BATCH_BYTES) {
                        break;
                    }
                    $events[] = $event;
                }
                // A row no key of the keyring opens is dropped with the batch: it is only a
                // page view and can never be read again.
                $ids[] = (int) $row['id'];
            }
            if ($events !== [] && $outbox->enqueue(Outbox::STATS_ENDPOINT, ['events' => $events]) === null) {
                break;
            }
            $batches += $events === [] ? 0 : 1;
            $wpdb->query($wpdb->prepare(
                "DELETE FROM {$wpdb->prefix}gardien_visits WHERE id IN ("
                    . implode(',', array_fill(0, count($ids), '%d')) . ')',
                $ids
            ));
        }
        return $batches;
    }

    public static function count(): int
    {
        global $wpdb;
        return (int) $wpdb->get_var("SELECT COUNT(*) FROM {$wpdb->prefix}gardien_visits");
    }
}
