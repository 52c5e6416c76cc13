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

    public function __construct(private Settings $settings)
    {
    }

    /** 'fr' or 'en', after the locale of the current request. */
    public static function language(): string
    {
        return str_starts_with(determine_locale(), 'fr') ? 'fr' : 'en';
    }

    /**
     * The published policy in this language, refreshed at most every twelve hours, and at most
     * every ten minutes while the service is unreachable. Null when never fetched.
     *
     * @return array<string, mixed>|null
     */
    public function get(?string $language = null): ?array
    {
        $language ??= self::language();
        $cache = get_option(self::CACHE_OPTION, []);
        $cache = is_array($cache) ? $cache : [];
        $entry = $cache[$language] ?? null;
        $fresh = is_array($entry) && (int) ($entry['fetched_at'] ?? 0) > time() - self::FRESH_SECONDS;
        if ($fresh || get_transient(self::RETRY_TRANSIENT . $language) || !$this->settings->isConfigured()) {
            return is_array($entry) ? $entry['policy'] : null;
        }
        $response = (new Client($this->settings))->call('GET', '/v1/policy?lang=' . $language, null, 3);
        if ($response->status === 200 && self::isPolicy($response->json)) {
            $cache[$language] = ['fetched_at' => time(), 'policy' => $response->json];
            update_option(self::CACHE_OPTION, $cache, false);
            return $response->json;
        }
        set_transient(self::RETRY_TRANSIENT . $language, 1, self::RETRY_SECONDS);
        return is_array($entry) ? $entry['policy'] : null;
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
