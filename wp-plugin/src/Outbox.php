<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Every message for the service waits here first: a row holds the sealed JSON body and only
 * delivery metadata (webhook-id, endpoint, attempts, next attempt, last status and error code).
 *
 * A 2xx deletes the row. No answer, a 5xx, a 429 or a refused signature (401: a typo in the
 * secret or the site slug, a clock that drifted, which would otherwise fail every message at
 * once) schedule another attempt with the same webhook-id (Backoff); a refused signature also
 * alerts the administrator. Any other answer keeps the row as `failed`: the administrator can
 * send it again or delete it, and it is deleted after the retention period since it holds
 * personal data. One cron run at a time delivers (Lock), and each row is claimed before it is
 * sent, so that a message and its retries leave from one process only.
 */
final class Outbox
{
    public const CRON_HOOK = 'gardien_outbox_delivery';
    public const CRON_SCHEDULE = 'gardien_five_minutes';
    /** A single event right after a form entry is queued: the delivery runs in WP-Cron. */
    public const SOON_HOOK = 'gardien_outbox_delivery_soon';
    public const PENDING = 'pending';
    public const FAILED = 'failed';
    public const LAST_DELIVERY_OPTION = 'gardien_last_delivery';
    public const LAST_ERROR_OPTION = 'gardien_last_error';
    /** Since when and how the service refuses this site's signature; gone at the next delivery. */
    public const SIGNATURE_REFUSED_OPTION = 'gardien_signature_refused';
    /** Form entries that could not be kept at all: how many, and when the last one was. */
    public const UNSTORED_OPTION = 'gardien_unstored_submissions';
    /** Days a refused message is kept; the `gardien_failed_retention_days` filter changes it. */
    public const FAILED_RETENTION_DAYS = 30;
    public const STATS_ENDPOINT = '/v1/stats/events';
    private const LOCK_SECONDS = 300;
    private const AGING_CHUNK = 100;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_filter('cron_schedules', [$this, 'filter_cron_schedules'], 10, 1);
        add_action(self::CRON_HOOK, [$this, 'action_gardien_outbox_delivery'], 10, 0);
        add_action(self::SOON_HOOK, [$this, 'action_gardien_outbox_delivery'], 10, 0);
        add_action('update_option_' . Settings::OPTION, [$this, 'action_update_option_gardien_settings'], 10, 2);
    }

    /**
     * @param array<string, array<string, mixed>> $schedules
     * @return array<string, array<string, mixed>>
     */
    public function filter_cron_schedules(array $schedules): array
    {
        $schedules[self::CRON_SCHEDULE] = [
            'interval' => 5 * MINUTE_IN_SECONDS,
            'display' => __('Every five minutes (Gardien)', 'gardien'),
        ];
        return $schedules;
    }

    /** Reseal what an earlier secret sealed, delete refused messages past retention, deliver. */
    public function action_gardien_outbox_delivery(): void
    {
        $lock = Lock::acquire('delivery', self::LOCK_SECONDS);
        if ($lock === null) {
            return;
        }
        try {
            if ($this->settings->isConfigured()) {
                (new Keyring($this->settings))->rotate();
            }
            self::deleteExpiredFailures();
            $this->ageWaitingPageViews();
            $this->deliverDue();
        } finally {
            $lock->release();
        }
    }

    /**
     * The secret changed on the settings page: remember the old key, and reseal waiting rows
     * with the new one at once.
     *
     * @param mixed $old
     * @param mixed $new
     */
    public function action_update_option_gardien_settings($old, $new): void
    {
        $oldSecret = is_array($old) ? (string) ($old['webhook_secret'] ?? '') : '';
        $newSecret = is_array($new) ? (string) ($new['webhook_secret'] ?? '') : '';
        if (Settings::isLocked('webhook_secret') || $oldSecret === $newSecret) {
            return;
        }
        if (Signer::isValidSecret($oldSecret)) {
            Keyring::remember(Cipher::fromSecret($oldSecret), false);
        }
        $settings = Settings::load();
        if ($settings->isConfigured()) {
            (new Keyring($settings))->rotate();
        }
    }

    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'gardien_outbox';
    }

    /**
     * Store a message for the service; null when it cannot be kept (no secret yet, database error).
     *
     * @param array<string, mixed> $payload
     */
    public function enqueue(string $endpoint, array $payload): ?int
    {
        global $wpdb;
        if (!$this->settings->isConfigured()) {
            return null;
        }
        $body = wp_json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        if (!is_string($body)) {
            return null;
        }
        $now = self::now();
        $inserted = $wpdb->insert(self::table(), [
            'webhook_id' => wp_generate_uuid4(),
            'endpoint' => $endpoint,
            'payload' => (new Keyring($this->settings))->current()->seal($body),
            'status' => self::PENDING,
            'attempts' => 0,
            'next_attempt_at' => $now,
            'created_at' => $now,
        ]);
        return $inserted === 1 ? (int) $wpdb->insert_id : null;
    }

    /**
     * Queue a form entry and have WP-Cron deliver it right away; the visitor's request makes no
     * call to the service, so a slow or hanging service never delays the form. An entry that
     * cannot be queued is counted for the status page (null is returned: the plugin's own form
     * then tells the visitor). `$timeout` is no longer used (deliveries take the cron timeout).
     *
     * @param array<string, mixed> $payload
     */
    public function queueAndSend(string $endpoint, array $payload, int $timeout = 8): ?int
    {
        unset($timeout);
        $id = $this->enqueue($endpoint, $payload);
        if ($id === null) {
            self::countUnstored();
            return null;
        }
        self::runSoon(self::SOON_HOOK);
        return $id;
    }

    /**
     * Schedule a single cron event now and start WP-Cron in the background (a non-blocking
     * loopback request, as WordPress itself does), unless the site runs cron from the system
     * (DISABLE_WP_CRON): then the next run does it. Nothing here waits on the network.
     *
     * @param array<int, mixed> $args
     */
    public static function runSoon(string $hook, array $args = []): void
    {
        if (!wp_next_scheduled($hook, $args)) {
            wp_schedule_single_event(time(), $hook, $args);
        }
        if ((defined('DISABLE_WP_CRON') && DISABLE_WP_CRON) || wp_doing_cron()) {
            return;
        }
        if (function_exists('spawn_cron')) {
            spawn_cron();
        }
    }

    /** One more form entry that could not be kept (its content is not logged anywhere). */
    public static function countUnstored(): void
    {
        $unstored = self::unstored();
        update_option(self::UNSTORED_OPTION, ['count' => $unstored['count'] + 1, 'last_at' => time()], false);
    }

    /** @return array{count: int, last_at: int} */
    public static function unstored(): array
    {
        $unstored = get_option(self::UNSTORED_OPTION, []);
        return [
            'count' => is_array($unstored) ? (int) ($unstored['count'] ?? 0) : 0,
            'last_at' => is_array($unstored) ? (int) ($unstored['last_at'] ?? 0) : 0,
        ];
    }

    /**
     * One delivery attempt of one row. Null when the row is gone, not due, failed, or being sent
     * by another process (the claim is what keeps two processes from sending it twice).
     */
    public function deliver(int $id, int $timeout = 15): ?Response
    {
        global $wpdb;
        $now = time();
        $claimed = $wpdb->query($wpdb->prepare(
            "UPDATE {$wpdb->prefix}gardien_outbox SET locked_until = %s
             WHERE id = %d AND status = %s AND next_attempt_at <= %s
             AND (locked_until IS NULL OR locked_until < %s)",
            self::now($now + $timeout + 30),
            $id,
            self::PENDING,
            self::now($now),
            self::now($now)
        ));
        if ($claimed !== 1) {
            return null;
        }
        $row = $wpdb->get_row(
            $wpdb->prepare("SELECT * FROM {$wpdb->prefix}gardien_outbox WHERE id = %d", $id),
            ARRAY_A
        );
        if (!is_array($row)) {
            return null;
        }
        if (!$this->settings->isConfigured()) {
            $response = new Response(0, null, 'not_configured');
            $this->record($row, $response, false);
            return $response;
        }
        $body = (new Keyring($this->settings))->open((string) $row['payload']);
        if ($body === null) {
            // No key this site has opens it: kept as failed, for the administrator to see.
            $response = new Response(0, null, 'key_mismatch');
            $this->record($row, $response, true);
            return $response;
        }
        if ($row['endpoint'] === self::STATS_ENDPOINT) {
            $body = VisitBuffer::agedBatch($body) ?? $body;
        }
        $response = (new Client($this->settings))
            ->send('POST', (string) $row['endpoint'], $body, (string) $row['webhook_id'], $timeout);
        $this->record($row, $response, !self::isRetryable($response));
        return $response;
    }

    /** The contract's retryable outcomes, and a refused signature (the settings will be fixed). */
    public static function isRetryable(Response $response): bool
    {
        return $response->isRetryable() || self::isSignatureRefused($response);
    }

    public static function isSignatureRefused(Response $response): bool
    {
        return $response->status === 401
            || ($response->status >= 400 && preg_match('/signature|timestamp/', $response->errorCode) === 1);
    }

    /**
     * Send what is due, oldest first, within a time budget. Stops at the first retryable failure:
     * when the service is down, one attempt per run is enough to know it.
     *
     * @return array{delivered: int, retrying: int, failed: int}
     */
    public function deliverDue(int $limit = 100, int $budgetSeconds = 25): array
    {
        global $wpdb;
        $started = time();
        $counts = ['delivered' => 0, 'retrying' => 0, 'failed' => 0];
        $ids = $wpdb->get_col($wpdb->prepare(
            "SELECT id FROM {$wpdb->prefix}gardien_outbox WHERE status = %s AND next_attempt_at <= %s
             ORDER BY next_attempt_at, id LIMIT %d",
            self::PENDING,
            self::now(),
            $limit
        ));
        foreach ($ids as $id) {
            if (time() - $started >= $budgetSeconds) {
                break;
            }
            $response = $this->deliver((int) $id);
            if ($response === null) {
                continue;
            }
            if ($response->isSuccess()) {
                $counts['delivered']++;
            } elseif (self::isRetryable($response)) {
                $counts['retrying']++;
                break;
            } else {
                $counts['failed']++;
            }
        }
        return $counts;
    }

    /**
     * Page views waiting here lose their address and user agent once a day old, as in the visit
     * buffer, so a service down for days never keeps visitors' addresses on this site. Rows are
     * rewritten only if nobody changed them meanwhile. Returns the number of rows rewritten.
     */
    public function ageWaitingPageViews(?int $now = null): int
    {
        global $wpdb;
        if (!$this->settings->isConfigured()) {
            return 0;
        }
        $keyring = new Keyring($this->settings);
        $aged = 0;
        $after = 0;
        do {
            $rows = $wpdb->get_results($wpdb->prepare(
                "SELECT id, payload FROM {$wpdb->prefix}gardien_outbox WHERE endpoint = %s AND id > %d
                 ORDER BY id LIMIT %d",
                self::STATS_ENDPOINT,
                $after,
                self::AGING_CHUNK
            ), ARRAY_A);
            foreach ((array) $rows as $row) {
                $after = (int) $row['id'];
                $body = $keyring->open((string) $row['payload']);
                $agedBody = $body === null ? null : VisitBuffer::agedBatch($body, $now);
                if ($agedBody !== null) {
                    $aged += (int) $wpdb->update(
                        self::table(),
                        ['payload' => $keyring->current()->seal($agedBody)],
                        ['id' => $after, 'payload' => (string) $row['payload']]
                    );
                }
            }
        } while (is_array($rows) && count($rows) === self::AGING_CHUNK);
        return $aged;
    }

    /**
     * The administrator's "retry now": failed rows go back to pending and everything is due.
     *
     * @return array{delivered: int, retrying: int, failed: int}
     */
    public function retryNow(): array
    {
        global $wpdb;
        $wpdb->query($wpdb->prepare(
            "UPDATE {$wpdb->prefix}gardien_outbox SET status = %s, next_attempt_at = %s WHERE status IN (%s, %s)",
            self::PENDING,
            self::now(),
            self::PENDING,
            self::FAILED
        ));
        return $this->deliverDue(500, 40);
    }

    /** Send one refused message again; null when it is not (or no longer) a failed row. */
    public function retryFailed(int $id): ?Response
    {
        global $wpdb;
        $reset = $wpdb->query($wpdb->prepare(
            "UPDATE {$wpdb->prefix}gardien_outbox SET status = %s, next_attempt_at = %s, locked_until = NULL
             WHERE id = %d AND status = %s",
            self::PENDING,
            self::now(),
            $id,
            self::FAILED
        ));
        return $reset === 1 ? $this->deliver($id) : null;
    }

    /** Delete one refused message from this site; false when there was no such failed row. */
    public static function deleteFailed(int $id): bool
    {
        global $wpdb;
        return $wpdb->query($wpdb->prepare(
            "DELETE FROM {$wpdb->prefix}gardien_outbox WHERE id = %d AND status = %s",
            $id,
            self::FAILED
        )) === 1;
    }

    /** Days a refused message is kept before cron deletes it (at least one). */
    public static function failedRetentionDays(): int
    {
        /**
         * Filters how many days a message refused by the service is kept on this site.
         *
         * @param int $days 30 by default
         */
        return max(1, (int) apply_filters('gardien_failed_retention_days', self::FAILED_RETENTION_DAYS));
    }

    /**
     * When a failed row is deleted: the retention period after it was refused.
     *
     * @param array<string, mixed> $row with last_attempt_at and created_at
     */
    public static function deletionTime(array $row): int
    {
        $refused = (string) ($row['last_attempt_at'] ?? '') !== '' ? $row['last_attempt_at'] : $row['created_at'];
        return (int) strtotime($refused . ' UTC') + self::failedRetentionDays() * DAY_IN_SECONDS;
    }

    /** Delete refused messages older than the retention period. Returns how many. */
    public static function deleteExpiredFailures(): int
    {
        global $wpdb;
        return (int) $wpdb->query($wpdb->prepare(
            "DELETE FROM {$wpdb->prefix}gardien_outbox
             WHERE status = %s AND COALESCE(last_attempt_at, created_at) < %s",
            self::FAILED,
            self::now(time() - self::failedRetentionDays() * DAY_IN_SECONDS)
        ));
    }

    /**
     * Counts for the admin page and the notice.
     *
     * @return array{pending: int, failed: int, oldest_pending: ?string, next_deletion: ?int}
     */
    public static function summary(): array
    {
        global $wpdb;
        $rows = $wpdb->get_results(
            "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest,
             MIN(COALESCE(last_attempt_at, created_at)) AS first_refused
             FROM {$wpdb->prefix}gardien_outbox GROUP BY status",
            ARRAY_A
        );
        $summary = ['pending' => 0, 'failed' => 0, 'oldest_pending' => null, 'next_deletion' => null];
        foreach ((array) $rows as $row) {
            if ($row['status'] === self::PENDING) {
                $summary['pending'] = (int) $row['n'];
                $summary['oldest_pending'] = $row['oldest'];
            } elseif ($row['status'] === self::FAILED) {
                $summary['failed'] = (int) $row['n'];
                $summary['next_deletion'] = self::deletionTime(['last_attempt_at' => $row['first_refused']]);
            }
        }
        return $summary;
    }

    /** How many failed rows cron deletes before `$timestamp`. */
    public static function failedDeletedBefore(int $timestamp): int
    {
        global $wpdb;
        return (int) $wpdb->get_var($wpdb->prepare(
            "SELECT COUNT(*) FROM {$wpdb->prefix}gardien_outbox
             WHERE status = %s AND COALESCE(last_attempt_at, created_at) < %s",
            self::FAILED,
            self::now($timestamp - self::failedRetentionDays() * DAY_IN_SECONDS)
        ));
    }

    /**
     * Failed rows, oldest first: delivery metadata and what the message is (`kind`: contact,
     * stats or unreadable; the contact form's slug, the number of page views). Never the payload.
     *
     * @return list<array<string, mixed>>
     */
    public function failedRows(int $limit = 100): array
    {
        global $wpdb;
        $rows = (array) $wpdb->get_results($wpdb->prepare(
            "SELECT id, webhook_id, endpoint, payload, attempts, last_status, last_error, created_at, last_attempt_at
             FROM {$wpdb->prefix}gardien_outbox WHERE status = %s ORDER BY created_at, id LIMIT %d",
            self::FAILED,
            $limit
        ), ARRAY_A);
        $keyring = $this->settings->isConfigured() ? new Keyring($this->settings) : null;
        foreach ($rows as $index => $row) {
            $plain = $keyring === null ? null : $keyring->open((string) $row['payload']);
            $body = $plain === null ? null : json_decode($plain, true);
            unset($row['payload'], $plain);
            $row['kind'] = 'unreadable';
            if (is_array($body) && $row['endpoint'] === '/v1/contact') {
                $row['kind'] = 'contact';
                $row['form'] = is_string($body['form'] ?? null) ? sanitize_key($body['form']) : '';
            } elseif (is_array($body) && $row['endpoint'] === self::STATS_ENDPOINT) {
                $row['kind'] = 'stats';
                $row['events'] = count((array) ($body['events'] ?? []));
            } elseif (is_array($body)) {
                $row['kind'] = 'other';
            }
            $rows[$index] = $row;
        }
        return array_values($rows);
    }

    /**
     * The contact messages still waiting on this site (pending or failed) from one address,
     * oldest first: id, status, created_at and the opened body. Rows are found by opening them
     * (the outbox is small); rows no key opens cannot be anyone's known message and are skipped.
     *
     * @return list<array{id: int, status: string, created_at: string, body: array<string, mixed>}>
     */
    public function personRows(string $email): array
    {
        global $wpdb;
        $address = self::normaliseAddress($email);
        if ($address === '' || !Signer::isValidSecret($this->settings->webhookSecret())) {
            return [];
        }
        $keyring = new Keyring($this->settings);
        $found = [];
        $after = 0;
        do {
            $rows = (array) $wpdb->get_results($wpdb->prepare(
                "SELECT id, endpoint, payload, status, created_at FROM {$wpdb->prefix}gardien_outbox
                 WHERE id > %d ORDER BY id LIMIT %d",
                $after,
                500
            ), ARRAY_A);
            foreach ($rows as $row) {
                $after = (int) $row['id'];
                if ($row['endpoint'] !== '/v1/contact') {
                    continue;
                }
                $plain = $keyring->open((string) $row['payload']);
                $body = $plain === null ? null : json_decode($plain, true);
                unset($plain);
                if (!is_array($body) || self::normaliseAddress((string) ($body['email'] ?? '')) !== $address) {
                    continue;
                }
                $found[] = [
                    'id' => (int) $row['id'],
                    'status' => (string) $row['status'],
                    'created_at' => (string) $row['created_at'],
                    'body' => $body,
                ];
            }
        } while (count($rows) === 500);
        return $found;
    }

    /**
     * Delete every waiting message (pending or failed) from one address, so that no later
     * delivery brings back what an erasure removed. Returns how many rows were deleted.
     */
    public function deletePersonRows(string $email): int
    {
        global $wpdb;
        $deleted = 0;
        foreach ($this->personRows($email) as $row) {
            $deleted += (int) $wpdb->delete(self::table(), ['id' => $row['id']], ['%d']);
        }
        return $deleted;
    }

    /** An address as it is compared: trimmed and lower-cased. */
    public static function normaliseAddress(string $email): string
    {
        return strtolower(trim($email));
    }

    /** MySQL DATETIME in UTC. */
    public static function now(?int $timestamp = null): string
    {
        return gmdate('Y-m-d H:i:s', $timestamp ?? time());
    }

    /** @param array<string, mixed> $row */
    /**
     * A batch of page views answered `409` after an earlier attempt: the service took that
     * attempt (its answer was lost), and the body changed since only because the batch aged.
     *
     * @param array<string, mixed> $row
     */
    private static function wasDeliveredBefore(array $row, Response $response): bool
    {
        return $row['endpoint'] === self::STATS_ENDPOINT && (int) $row['attempts'] > 0
            && $response->status === 409 && $response->errorCode === 'idempotency_conflict';
    }

    private function record(array $row, Response $response, bool $final): void
    {
        global $wpdb;
        if ($response->isSuccess() || self::wasDeliveredBefore($row, $response)) {
            $wpdb->delete(self::table(), ['id' => (int) $row['id']]);
            update_option(self::LAST_DELIVERY_OPTION, time(), false);
            if (get_option(self::SIGNATURE_REFUSED_OPTION) !== false) {
                delete_option(self::SIGNATURE_REFUSED_OPTION);
            }
            return;
        }
        $attempts = (int) $row['attempts'] + 1;
        $wpdb->update(self::table(), [
            'status' => $final ? self::FAILED : self::PENDING,
            'attempts' => $attempts,
            'next_attempt_at' => self::now(time() + Backoff::delay($attempts, $response->retryAfter)),
            'locked_until' => null,
            'last_status' => $response->status === 0 ? null : $response->status,
            'last_error' => $response->errorCode,
            'last_attempt_at' => self::now(),
        ], ['id' => (int) $row['id']]);
        update_option(self::LAST_ERROR_OPTION, [
            'at' => time(),
            'endpoint' => (string) $row['endpoint'],
            'error' => $response->describe(),
        ], false);
        if (self::isSignatureRefused($response)) {
            $refused = get_option(self::SIGNATURE_REFUSED_OPTION, []);
            update_option(self::SIGNATURE_REFUSED_OPTION, [
                'since' => is_array($refused) && isset($refused['since']) ? (int) $refused['since'] : time(),
                'at' => time(),
                'error' => $response->describe(),
            ], true);
        }
    }
}
