<?php

namespace Gardien;

/**
 * Every message for the service waits here first: a row holds the sealed JSON body and only
 * delivery metadata (webhook-id, endpoint, attempts, next attempt, last status and error code).
 * A 2xx deletes the row; no answer, a 5xx or a 429 schedules another attempt with the same
 * webhook-id (Backoff); any other answer keeps the row as `failed` for the administrator.
 */
final class Outbox
{
    public const CRON_HOOK = 'gardien_outbox_delivery';
    public const CRON_SCHEDULE = 'gardien_five_minutes';
    public const PENDING = 'pending';
    public const FAILED = 'failed';
    public const LAST_DELIVERY_OPTION = 'gardien_last_delivery';
    public const LAST_ERROR_OPTION = 'gardien_last_error';

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_filter('cron_schedules', [$this, 'filter_cron_schedules'], 10, 1);
        add_action(self::CRON_HOOK, [$this, 'action_gardien_outbox_delivery'], 10, 0);
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

    public function action_gardien_outbox_delivery(): void
    {
        $this->deliverDue();
    }

    /**
     * The secret changed on the settings page: reseal waiting rows with the new key, or they
     * could never be opened again.
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
        if (!Signer::isValidSecret($oldSecret) || !Signer::isValidSecret($newSecret)) {
            return;
        }
        self::reseal(Cipher::fromSecret($oldSecret), Cipher::fromSecret($newSecret));
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
            'payload' => Cipher::fromSecret($this->settings->webhookSecret())->seal($body),
            'status' => self::PENDING,
            'attempts' => 0,
            'next_attempt_at' => $now,
            'created_at' => $now,
        ]);
        return $inserted === 1 ? (int) $wpdb->insert_id : null;
    }

    /**
     * Queue a message and try it at once; the outbox row is the guarantee, the attempt a bonus.
     *
     * @param array<string, mixed> $payload
     */
    public function queueAndSend(string $endpoint, array $payload, int $timeout = 8): ?int
    {
        $id = $this->enqueue($endpoint, $payload);
        if ($id !== null) {
            $this->deliver($id, $timeout);
        }
        return $id;
    }

    /**
     * One delivery attempt of one row. Null when the row is gone, failed, or being sent by
     * another process (the claim is what keeps two cron runs from sending it twice).
     */
    public function deliver(int $id, int $timeout = 15): ?Response
    {
        global $wpdb;
        $table = self::table();
        $now = time();
        $claimed = $wpdb->query($wpdb->prepare(
            "UPDATE {$table} SET locked_until = %s
             WHERE id = %d AND status = %s AND (locked_until IS NULL OR locked_until < %s)",
            self::now($now + $timeout + 30),
            $id,
            self::PENDING,
            self::now($now)
        ));
        if ($claimed !== 1) {
            return null;
        }
        $row = $wpdb->get_row($wpdb->prepare("SELECT * FROM {$table} WHERE id = %d", $id), ARRAY_A);
        if (!is_array($row)) {
            return null;
        }
        $body = $this->settings->isConfigured()
            ? Cipher::fromSecret($this->settings->webhookSecret())->open((string) $row['payload'])
            : null;
        if ($body === null) {
            $response = new Response(0, null, $this->settings->isConfigured() ? 'key_mismatch' : 'not_configured');
            $this->record($row, $response, true);
            return $response;
        }
        $response = (new Client($this->settings))
            ->send('POST', (string) $row['endpoint'], $body, (string) $row['webhook_id'], $timeout);
        $this->record($row, $response, !$response->isRetryable());
        return $response;
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
        $table = self::table();
        $started = time();
        $counts = ['delivered' => 0, 'retrying' => 0, 'failed' => 0];
        $ids = $wpdb->get_col($wpdb->prepare(
            "SELECT id FROM {$table} WHERE status = %s AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %d",
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
            } elseif ($response->isRetryable()) {
                $counts['retrying']++;
                break;
            } else {
                $counts['failed']++;
            }
        }
        return $counts;
    }

    /**
     * The administrator's "retry now": failed rows go back to pending and everything is due.
     *
     * @return array{delivered: int, retrying: int, failed: int}
     */
    public function retryNow(): array
    {
        global $wpdb;
        $table = self::table();
        $wpdb->query($wpdb->prepare(
            "UPDATE {$table} SET status = %s, next_attempt_at = %s WHERE status IN (%s, %s)",
            self::PENDING,
            self::now(),
            self::PENDING,
            self::FAILED
        ));
        return $this->deliverDue(500, 40);
    }

    /**
     * Counts for the admin page and the notice.
     *
     * @return array{pending: int, failed: int, oldest_pending: ?string}
     */
    public static function summary(): array
    {
        global $wpdb;
        $table = self::table();
        $rows = $wpdb->get_results(
            "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM {$table} GROUP BY status",
            ARRAY_A
        );
        $summary = ['pending' => 0, 'failed' => 0, 'oldest_pending' => null];
        foreach ((array) $rows as $row) {
            if ($row['status'] === self::PENDING) {
                $summary['pending'] = (int) $row['n'];
                $summary['oldest_pending'] = $row['oldest'];
            } elseif ($row['status'] === self::FAILED) {
                $summary['failed'] = (int) $row['n'];
            }
        }
        return $summary;
    }

    /**
     * Failed rows, metadata only (never the payload).
     *
     * @return list<array<string, mixed>>
     */
    public static function failedRows(int $limit = 50): array
    {
        global $wpdb;
        $table = self::table();
        return (array) $wpdb->get_results($wpdb->prepare(
            "SELECT id, webhook_id, endpoint, attempts, last_status, last_error, created_at, last_attempt_at
             FROM {$table} WHERE status = %s ORDER BY created_at LIMIT %d",
            self::FAILED,
            $limit
        ), ARRAY_A);
    }

    /** Re-encrypt every waiting row and buffered visit from one key to another. */
    public static function reseal(Cipher $from, Cipher $to): void
    {
        global $wpdb;
        foreach ([self::table(), VisitBuffer::table()] as $table) {
            $rows = $wpdb->get_results("SELECT id, payload FROM {$table}", ARRAY_A);
            foreach ((array) $rows as $row) {
                $plain = $from->open((string) $row['payload']);
                if ($plain !== null) {
                    $wpdb->update($table, ['payload' => $to->seal($plain)], ['id' => (int) $row['id']]);
                }
            }
        }
    }

    /** MySQL DATETIME in UTC. */
    public static function now(?int $timestamp = null): string
    {
        return gmdate('Y-m-d H:i:s', $timestamp ?? time());
    }

    /** @param array<string, mixed> $row */
    private function record(array $row, Response $response, bool $final): void
    {
        global $wpdb;
        $table = self::table();
        if ($response->isSuccess()) {
            $wpdb->delete($table, ['id' => (int) $row['id']]);
            update_option(self::LAST_DELIVERY_OPTION, time(), false);
            return;
        }
        $attempts = (int) $row['attempts'] + 1;
        $wpdb->update($table, [
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
    }
}
