<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The plugin's configuration: the `gardien_settings` option, overridden field by field by the
 * GARDIEN_SERVICE_URL / GARDIEN_SITE / GARDIEN_WEBHOOK_SECRET constants of wp-config.php.
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

    /** @param array<string, mixed> $values */
    private function __construct(private array $values)
    {
    }

    /** The current settings: option values, defaults for the missing ones, constants on top. */
    public static function load(): self
    {
        $stored = get_option(self::OPTION, []);
        $values = array_merge(self::defaults(), is_array($stored) ? $stored : []);
        foreach (self::CONSTANTS as $key => $constant) {
            if (defined($constant)) {
                $values[$key] = (string) constant($constant);
            }
        }
        return new self($values);
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
        return isset(self::CONSTANTS[$key]) && defined(self::CONSTANTS[$key]);
    }

    public function serviceUrl(): string
    {
        return untrailingslashit((string) $this->values['service_url']);
    }

    public function site(): string
    {
        $site = (string) $this->values['site'];
        return $site === '' ? 'default' : $site;
    }

    public function webhookSecret(): string
    {
        return (string) $this->values['webhook_secret'];
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
