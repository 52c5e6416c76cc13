<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Visits of the last seven days as the service counts them (GET /v1/stats/summary), kept on this
 * site for the dashboard widget and Tools → Gardien. WP-Cron fetches them every hour; a screen
 * that finds them missing or stale asks cron for a refresh and shows what it has: an admin
 * screen never waits on the service. Only the totals per day are kept, not the pages, referrers
 * or search terms of the summary.
 */
final class VisitsSummary
{
    public const OPTION = 'gardien_visits_summary';
    public const REFRESH_HOOK = 'gardien_visits_summary_refresh';
    public const DAYS = 7;
    /** Older than this (two hourly runs missed), the figures are stale and a refresh is asked for. */
    public const STALE_SECONDS = 2 * HOUR_IN_SECONDS;
    private const RETRY_TRANSIENT = 'gardien_visits_summary_retry';
    private const RETRY_SECONDS = 10 * MINUTE_IN_SECONDS;
    private const TIMEOUT_SECONDS = 5;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_action('init', [$this, 'action_init'], 10, 0);
        add_action(self::REFRESH_HOOK, [$this, 'action_gardien_visits_summary_refresh'], 10, 1);
    }

    /** The hourly refresh is scheduled again if something removed it. */
    public function action_init(): void
    {
        if (!wp_next_scheduled(self::REFRESH_HOOK)) {
            wp_schedule_event(time(), 'hourly', self::REFRESH_HOOK);
        }
    }

    /**
     * The cron event: the hourly run always fetches; the run a screen asked for (`stale`) only
     * when the figures are still stale by then.
     *
     * @param mixed $reason 'stale' for the single event of fresh(), nothing for the hourly one
     */
    public function action_gardien_visits_summary_refresh($reason = ''): void
    {
        if ($reason === 'stale' && !self::isStale(self::cached())) {
            return;
        }
        $this->refresh();
    }

    /**
     * Fetch the last seven days now (cron only). Keeps the previous figures when the service does
     * not give new ones, with the time and reason of the failure; a failure waits ten minutes
     * before a screen asks again.
     */
    public function refresh(): bool
    {
        if (!$this->settings->isConfigured()) {
            return false;
        }
        $to = gmdate('Y-m-d');
        $from = gmdate('Y-m-d', time() - (self::DAYS - 1) * DAY_IN_SECONDS);
        $response = (new Client($this->settings))->call(
            'GET',
            '/v1/stats/summary?from=' . $from . '&to=' . $to,
            null,
            self::TIMEOUT_SECONDS
        );
        $entry = self::cached();
        $entry['attempted_at'] = time();
        $days = $response->status === 200 && is_array($response->json['days'] ?? null)
            ? self::days($from, $response->json['days'])
            : null;
        if ($days === null) {
            $entry['error'] = $response->isSuccess() ? 'invalid_summary' : $response->describe();
            $entry['error_status'] = $response->status;
            update_option(self::OPTION, $entry, false);
            set_transient(self::RETRY_TRANSIENT, 1, self::RETRY_SECONDS);
            return false;
        }
        update_option(self::OPTION, [
            'fetched_at' => $entry['attempted_at'],
            'attempted_at' => $entry['attempted_at'],
            'error' => '',
            'error_status' => 0,
            'summary' => [
                'from' => $from,
                'to' => $to,
                'visits' => self::count($response->json['visits'] ?? 0),
                'visitors' => self::count($response->json['visitors'] ?? 0),
                'days' => $days,
            ],
        ], false);
        return true;
    }

    /**
     * What a screen shows, never fetched here: the cache entry (`summary` null when never
     * fetched). Asks WP-Cron for a refresh when the figures are missing or stale.
     *
     * @return array{fetched_at: int, attempted_at: int, error: string, error_status: int,
     *     summary: array{from: string, to: string, visits: int, visitors: int,
     *     days: list<array{date: string, visits: int, visitors: int}>}|null}
     */
    public function fresh(): array
    {
        $entry = self::cached();
        if (self::isStale($entry) && $this->settings->isConfigured() && !get_transient(self::RETRY_TRANSIENT)) {
            Outbox::runSoon(self::REFRESH_HOOK, ['stale']);
        }
        return $entry;
    }

    /**
     * The cache entry as stored, with every key present.
     *
     * @return array{fetched_at: int, attempted_at: int, error: string, error_status: int,
     *     summary: array{from: string, to: string, visits: int, visitors: int,
     *     days: list<array{date: string, visits: int, visitors: int}>}|null}
     */
    public static function cached(): array
    {
        $stored = get_option(self::OPTION, []);
        $stored = is_array($stored) ? $stored : [];
        $summary = $stored['summary'] ?? null;
        return [
            'fetched_at' => (int) ($stored['fetched_at'] ?? 0),
            'attempted_at' => (int) ($stored['attempted_at'] ?? 0),
            'error' => (string) ($stored['error'] ?? ''),
            'error_status' => (int) ($stored['error_status'] ?? 0),
            'summary' => is_array($summary) && is_array($summary['days'] ?? null) ? $summary : null,
        ];
    }

    /** @param array{fetched_at: int, summary: array<string, mixed>|null} $entry */
    public static function isStale(array $entry): bool
    {
        return $entry['summary'] === null || $entry['fetched_at'] < time() - self::STALE_SECONDS;
    }

    /**
     * Each day of the range once, in order, zero when the service lists no visit for it.
     *
     * @param array<mixed> $listed the service's `days`
     * @return list<array{date: string, visits: int, visitors: int}>
     */
    private static function days(string $from, array $listed): array
    {
        $byDate = [];
        foreach ($listed as $day) {
            if (is_array($day) && is_string($day['date'] ?? null)) {
                $byDate[$day['date']] = $day;
            }
        }
        $start = (int) strtotime($from . ' 00:00:00 UTC');
        $days = [];
        for ($n = 0; $n < self::DAYS; $n++) {
            $date = gmdate('Y-m-d', $start + $n * DAY_IN_SECONDS);
            $days[] = [
                'date' => $date,
                'visits' => self::count($byDate[$date]['visits'] ?? 0),
                'visitors' => self::count($byDate[$date]['visitors'] ?? 0),
            ];
        }
        return $days;
    }

    private static function count(mixed $value): int
    {
        return is_int($value) && $value > 0 ? $value : 0;
    }
}
