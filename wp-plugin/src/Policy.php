<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The retention policy as the service publishes it (GET /v1/policy), kept on this site so that the
 * contact form's consent line, the privacy-policy guide and the retention table still show the
 * last known version when the service cannot be reached.
 */
final class Policy
{
    public const CACHE_OPTION = 'gardien_policy_cache';
    private const RETRY_TRANSIENT = 'gardien_policy_retry_';
    private const FRESH_SECONDS = 12 * HOUR_IN_SECONDS;
    private const RETRY_SECONDS = 10 * MINUTE_IN_SECONDS;
    public const REFRESH_HOOK = 'gardien_policy_refresh';

    public function __construct(private Settings $settings)
    {
    }

    /** 'fr' or 'en', after the locale of the current request. */
    public static function language(): string
    {
        return str_starts_with(determine_locale(), 'fr') ? 'fr' : 'en';
    }

    public function hook(): void
    {
        add_action(self::REFRESH_HOOK, [$this, 'action_gardien_policy_refresh'], 10, 1);
    }

    /**
     * The published policy in this language as last fetched; null when never fetched. A copy
     * older than twelve hours is refreshed by WP-Cron (at most every ten minutes while the
     * service is unreachable): a page or an admin screen never waits on the service.
     *
     * @return array<string, mixed>|null
     */
    public function get(?string $language = null): ?array
    {
        $language ??= self::language();
        $entry = self::cached($language);
        if ($this->needsRefresh($language, $entry)) {
            Outbox::runSoon(self::REFRESH_HOOK, [$language]);
        }
        return is_array($entry) ? $entry['policy'] : null;
    }

    /**
     * The cron event: fetch the policy in one language.
     *
     * @param mixed $language 'fr' or 'en', as get() scheduled it
     */
    public function action_gardien_policy_refresh($language = 'en'): void
    {
        $language = $language === 'fr' ? 'fr' : 'en';
        if ($this->needsRefresh($language, self::cached($language))) {
            $this->refresh($language);
        }
    }

    /**
     * Fetch the policy now (cron, the settings screen's own actions). Returns it, or null when
     * the service did not give it; a failure waits ten minutes before the next attempt.
     *
     * @return array<string, mixed>|null
     */
    public function refresh(string $language): ?array
    {
        $response = (new Client($this->settings))->call('GET', '/v1/policy?lang=' . $language, null, 3);
        if ($response->status === 200 && self::isPolicy($response->json)) {
            $cache = get_option(self::CACHE_OPTION, []);
            $cache = is_array($cache) ? $cache : [];
            $cache[$language] = ['fetched_at' => time(), 'policy' => $response->json];
            update_option(self::CACHE_OPTION, $cache, false);
            return $response->json;
        }
        set_transient(self::RETRY_TRANSIENT . $language, 1, self::RETRY_SECONDS);
        return null;
    }

    /** @return array<string, mixed>|null the cache entry: fetched_at and policy */
    private static function cached(string $language): ?array
    {
        $cache = get_option(self::CACHE_OPTION, []);
        $entry = is_array($cache) ? ($cache[$language] ?? null) : null;
        return is_array($entry) && is_array($entry['policy'] ?? null) ? $entry : null;
    }

    /** @param array<string, mixed>|null $entry */
    private function needsRefresh(string $language, ?array $entry): bool
    {
        $fresh = is_array($entry) && (int) ($entry['fetched_at'] ?? 0) > time() - self::FRESH_SECONDS;
        return !$fresh && !get_transient(self::RETRY_TRANSIENT . $language) && $this->settings->isConfigured();
    }

    /** "1 an": how long contact messages are kept, as the policy words it. */
    public function contactPeriodLabel(): ?string
    {
        foreach ((array) ($this->get()['categories'] ?? []) as $category) {
            $label = is_array($category) ? ($category['period_label'] ?? null) : null;
            if (($category['key'] ?? '') === 'contact' && is_string($label)) {
                return $label;
            }
        }
        return null;
    }

    /** The retention table as HTML, limited to table markup. */
    public function tableHtml(): ?string
    {
        $html = $this->get()['html'] ?? null;
        return is_string($html) && $html !== '' ? wp_kses($html, self::allowedTableHtml()) : null;
    }

    /** @param array<mixed>|null $json */
    private static function isPolicy(?array $json): bool
    {
        return is_array($json) && is_array($json['categories'] ?? null) && is_string($json['html'] ?? null);
    }

    /** @return array<string, array<string, bool>> */
    private static function allowedTableHtml(): array
    {
        $cell = ['scope' => true, 'colspan' => true, 'rowspan' => true, 'class' => true];
        return [
            'table' => ['class' => true],
            'caption' => [],
            'thead' => [],
            'tbody' => [],
            'tfoot' => [],
            'tr' => ['class' => true],
            'th' => $cell,
            'td' => $cell,
            'p' => [],
            'ul' => [],
            'li' => [],
            'strong' => [],
            'em' => [],
            'br' => [],
            'abbr' => ['title' => true],
        ];
    }
}
