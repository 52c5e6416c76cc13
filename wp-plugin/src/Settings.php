<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The plugin's configuration: the `gardien_settings` option, overridden field by field by the
 * GARDIEN_SERVICE_URL / GARDIEN_SITE / GARDIEN_WEBHOOK_SECRET constants of wp-config.php.
 *
 * On a multisite network each site signs as its own Gardien site: a sub-site whose slug is
 * GARDIEN_SITE (a network-wide constant) or the default `default` signs as `<slug>-<blog id>`,
 * and GARDIEN_WEBHOOK_SECRET, which the service accepts for one site only, is the main site's:
 * a sub-site takes its secret from GARDIEN_WEBHOOK_SECRETS (blog id => secret) or its own
 * settings. The `gardien_site_id` and `gardien_webhook_secret` filters have the last word.
 */
final class Settings
{
    public const OPTION = 'gardien_settings';

    /** Form sources the plugin can capture, keyed by slug. */
    public const FORM_SOURCES = ['own', 'cf7', 'wpforms', 'gravityforms'];

    /** Request headers that may carry the visitor address behind a reverse proxy (allow-list). */
    public const IP_HEADERS = ['', 'HTTP_CF_CONNECTING_IP', 'HTTP_X_FORWARDED_FOR', 'HTTP_X_REAL_IP'];

    /** Settings that a wp-config.php constant can lock, and the constant's name. */
    public const CONSTANTS = [
        'service_url' => 'GARDIEN_SERVICE_URL',
        'site' => 'GARDIEN_SITE',
        'webhook_secret' => 'GARDIEN_WEBHOOK_SECRET',
    ];

    /** Per-site secrets of a network, `blog id => secret` (an array constant of wp-config.php). */
    public const SECRETS_CONSTANT = 'GARDIEN_WEBHOOK_SECRETS';

    /** @param array<string, mixed> $values */
    private function __construct(private array $values, private int $blogId = 0)
    {
    }

    /** The current settings: option values, defaults for the missing ones, constants on top. */
    public static function load(): self
    {
        $stored = get_option(self::OPTION, []);
        $values = array_merge(self::defaults(), is_array($stored) ? $stored : []);
        foreach (array_keys(self::CONSTANTS) as $key) {
            $constant = self::constantValue($key);
            if ($constant !== null) {
                $values[$key] = $constant;
            }
        }
        if (self::isSubSite() && (self::isLocked('site') || in_array($values['site'], ['', 'default'], true))) {
            $values['site'] = ($values['site'] === '' ? 'default' : $values['site']) . '-' . get_current_blog_id();
        }
        return new self($values, get_current_blog_id());
    }

    /** A site of a network other than its main site. */
    private static function isSubSite(): bool
    {
        return is_multisite() && !is_main_site();
    }

    /** The wp-config.php constant's value for this setting on the current site, if one applies. */
    private static function constantValue(string $key): ?string
    {
        if ($key === 'webhook_secret' && is_multisite() && defined(self::SECRETS_CONSTANT)) {
            $secrets = (array) constant(self::SECRETS_CONSTANT);
            if (isset($secrets[get_current_blog_id()])) {
                return (string) $secrets[get_current_blog_id()];
            }
        }
        if (!defined(self::CONSTANTS[$key]) || ($key === 'webhook_secret' && self::isSubSite())) {
            return null;
        }
        return (string) constant(self::CONSTANTS[$key]);
    }

    /** @param array<string, mixed> $values */
    public static function fromArray(array $values): self
    {
        return new self(array_merge(self::defaults(), $values));
    }

    /** @return array<string, mixed> */
    public static function defaults(): array
    {
        return [
            'service_url' => '',
            'site' => 'default',
            'webhook_secret' => '',
            'stats_enabled' => true,
            'stats_track_404' => false,
            'stats_track_editors' => false,
            'stats_honour_dnt' => true,
            'stats_beacon' => false,
            'forms' => self::FORM_SOURCES,
            'ip_header' => '',
            'trusted_proxies' => [],
        ];
    }

    /** Whether a wp-config.php constant fixes this setting (the field is then read-only). */
    public static function isLocked(string $key): bool
    {
        return isset(self::CONSTANTS[$key]) && self::constantValue($key) !== null;
    }

    public function serviceUrl(): string
    {
        return untrailingslashit((string) $this->values['service_url']);
    }

    public function site(): string
    {
        $site = (string) $this->values['site'];
        /**
         * Filters the Gardien site slug this WordPress site signs as (X-WP-Site).
         *
         * @param string $site    The slug from the settings (on a sub-site of a network,
         *                        `<slug>-<blog id>` when the slug is network-wide or `default`).
         * @param int    $blog_id The WordPress site (blog id; 0 outside WordPress's loading).
         */
        $site = (string) apply_filters('gardien_site_id', $site === '' ? 'default' : $site, $this->blogId);
        return $site === '' ? 'default' : $site;
    }

    public function webhookSecret(): string
    {
        /**
         * Filters the webhook secret this WordPress site signs with (each Gardien site has its own).
         *
         * @param string $secret  The secret from the settings or wp-config.php.
         * @param int    $blog_id The WordPress site (blog id; 0 outside WordPress's loading).
         */
        return (string) apply_filters('gardien_webhook_secret', (string) $this->values['webhook_secret'], $this->blogId);
    }

    /** True when the service URL and a usable secret are known. */
    public function isConfigured(): bool
    {
        return $this->serviceUrl() !== '' && Signer::isValidSecret($this->webhookSecret());
    }

    public function statsEnabled(): bool
    {
        return (bool) $this->values['stats_enabled'];
    }

    public function tracks404(): bool
    {
        return (bool) $this->values['stats_track_404'];
    }

    public function tracksEditors(): bool
    {
        return (bool) $this->values['stats_track_editors'];
    }

    public function honoursDoNotTrack(): bool
    {
        return (bool) $this->values['stats_honour_dnt'];
    }

    /** Count page views with the browser's beacon (for pages a page cache serves). */
    public function statsBeacon(): bool
    {
        return (bool) ($this->values['stats_beacon'] ?? false);
    }

    public function captures(string $source): bool
    {
        return in_array($source, (array) $this->values['forms'], true);
    }

    public function ipHeader(): string
    {
        return (string) $this->values['ip_header'];
    }

    /** @return list<string> IP addresses or CIDR ranges of the reverse proxies in front of the site. */
    public function trustedProxies(): array
    {
        return array_values(array_map('strval', (array) $this->values['trusted_proxies']));
    }

    /** @return array<string, mixed> */
    public function toArray(): array
    {
        return $this->values;
    }
}
