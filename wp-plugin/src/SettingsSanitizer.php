<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Turns what the settings form posted into a clean `gardien_settings` value.
 * Every field is allow-listed or validated; a bad value keeps the current one and leaves an error.
 */
final class SettingsSanitizer
{
    /** @var list<array{field: string, message: string}> */
    private array $errors = [];

    /** @var list<string> */
    private array $locked;

    /** @param list<string>|null $locked settings fixed by wp-config.php; by default, read from the constants */
    public function __construct(?array $locked = null)
    {
        $this->locked = $locked ?? array_values(
            array_filter(array_keys(Settings::CONSTANTS), [Settings::class, 'isLocked'])
        );
    }

    /**
     * @param array<string, mixed> $input   the posted fields, already unslashed
     * @param array<string, mixed> $current the stored option
     * @return array<string, mixed>
     */
    public function sanitize(array $input, array $current): array
    {
        $this->errors = [];
        $current = array_merge(Settings::defaults(), $current);
        $clean = $current;

        $clean['service_url'] = $this->serviceUrl($input['service_url'] ?? '', (string) $current['service_url']);
        $clean['site'] = $this->site($input['site'] ?? '', (string) $current['site']);
        $clean['webhook_secret'] = $this->secret($input['webhook_secret'] ?? '', (string) $current['webhook_secret']);
        foreach ($this->locked as $key) {
            // The field is read-only on the form; keep what was stored for the day the constant goes.
            $clean[$key] = $current[$key];
        }

        foreach (['stats_enabled', 'stats_track_404', 'stats_track_editors', 'stats_honour_dnt', 'stats_beacon'] as $flag) {
            $clean[$flag] = !empty($input[$flag]);
        }

        $forms = is_array($input['forms'] ?? null) ? array_map('strval', $input['forms']) : [];
        $clean['forms'] = array_values(array_intersect(Settings::FORM_SOURCES, $forms));

        $header = is_string($input['ip_header'] ?? null) ? $input['ip_header'] : '';
        $clean['ip_header'] = in_array($header, Settings::IP_HEADERS, true) ? $header : '';

        $clean['trusted_proxies'] = $this->proxies($input['trusted_proxies'] ?? '');
        if ($clean['ip_header'] !== '' && $clean['trusted_proxies'] === []) {
            $this->error(
                'ip_header',
                __(
                    'A proxy header is only read from trusted proxy addresses: list at least one, or the visitor address stays REMOTE_ADDR.',
                    'gardien'
                )
            );
        }

        return $clean;
    }

    /** @return list<array{field: string, message: string}> */
    public function errors(): array
    {
        return $this->errors;
    }

    private function serviceUrl(mixed $value, string $current): string
    {
        $value = trim(is_string($value) ? $value : '');
        if ($value === '') {
            return '';
        }
        $parts = wp_parse_url($value);
        $scheme = strtolower((string) ($parts['scheme'] ?? ''));
        $host = strtolower((string) ($parts['host'] ?? ''));
        $loopback = in_array($host, ['localhost', '127.0.0.1', '[::1]', '::1'], true);
        if ($host === '' || !($scheme === 'https' || ($scheme === 'http' && $loopback))) {
            $this->error(
                'service_url',
                __('The service URL must start with https:// (plain http only for localhost).', 'gardien')
            );
            return $current;
        }
        if (isset($parts['query']) || isset($parts['fragment']) || isset($parts['user'])) {
            $this->error(
                'service_url',
                __('The service URL must not contain a query, a fragment or a password.', 'gardien')
            );
            return $current;
        }
        return untrailingslashit(esc_url_raw($value, ['http', 'https']));
    }

    private function site(mixed $value, string $current): string
    {
        $value = trim(is_string($value) ? $value : '');
        if ($value === '') {
            return 'default';
        }
        if (preg_match('/^[a-z0-9][a-z0-9_-]{0,63}$/', $value) !== 1) {
            $this->error(
                'site',
                __('The site slug may only hold lower-case letters, digits, hyphens and underscores.', 'gardien')
            );
            return $current === '' ? 'default' : $current;
        }
        return $value;
    }

    /** An empty field keeps the stored secret: the form never shows it back. */
    private function secret(mixed $value, string $current): string
    {
        $value = trim(is_string($value) ? $value : '');
        if ($value === '') {
            return $current;
        }
        if (!Signer::isValidSecret($value)) {
            $this->error(
                'webhook_secret',
                __('The webhook secret must look like whsec_ followed by at least 24 bytes in base64.', 'gardien')
            );
            return $current;
        }
        return $value;
    }

    /** @return list<string> */
    private function proxies(mixed $value): array
    {
        $lines = is_array($value) ? $value : preg_split('/[\s,]+/', is_string($value) ? $value : '');
        $proxies = [];
        foreach ((array) $lines as $line) {
            $line = trim((string) $line);
            if ($line === '') {
                continue;
            }
            if (!VisitorIp::isAddressOrRange($line)) {
                $this->error(
                    'trusted_proxies',
                    sprintf(
                        /* translators: %s: the rejected entry */
                        __('Ignored “%s”: not an IP address or CIDR range.', 'gardien'),
                        $line
                    )
                );
                continue;
            }
            $proxies[] = $line;
        }
        return array_values(array_unique($proxies));
    }

    private function error(string $field, string $message): void
    {
        $this->errors[] = ['field' => $field, 'message' => $message];
    }
}
