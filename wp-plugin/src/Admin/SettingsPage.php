<?php

namespace Gardien\Admin;

defined('ABSPATH') || exit;

use Gardien\Client;
use Gardien\Settings;
use Gardien\SettingsSanitizer;

/**
 * Settings → Gardien: the Settings API form (options.php checks the capability and the nonce),
 * plus a "Test connection" button handled on admin-post.php.
 */
final class SettingsPage
{
    public const SLUG = 'gardien';
    private const GROUP = 'gardien';
    private const TEST_ACTION = 'gardien_test_connection';

    public function hook(): void
    {
        add_action('admin_menu', [$this, 'action_admin_menu'], 10, 0);
        add_action('admin_init', [$this, 'action_admin_init'], 10, 0);
        add_action('admin_post_' . self::TEST_ACTION, [$this, 'action_admin_post_gardien_test_connection'], 10, 0);
        add_filter(
            'plugin_action_links_' . plugin_basename(GARDIEN_PLUGIN_FILE),
            [$this, 'filter_plugin_action_links'],
            10,
            1
        );
    }

    public function action_admin_menu(): void
    {
        add_options_page(
            __('Gardien settings', 'gardien'),
            __('Gardien', 'gardien'),
            'manage_options',
            self::SLUG,
            [$this, 'render']
        );
    }

    public function action_admin_init(): void
    {
        register_setting(self::GROUP, Settings::OPTION, [
            'type' => 'array',
            'sanitize_callback' => [$this, 'sanitize'],
            'default' => Settings::defaults(),
            'show_in_rest' => false,
        ]);
    }

    /**
     * @param array<string, string> $links
     * @return array<string, string>
     */
    public function filter_plugin_action_links(array $links): array
    {
        $url = admin_url('options-general.php?page=' . self::SLUG);
        $links['settings'] = '<a href="' . esc_url($url) . '">' . esc_html__('Settings', 'gardien') . '</a>';
        return $links;
    }

    /**
     * register_setting's callback; options.php has already checked manage_options and the nonce.
     *
     * @param mixed $input
     * @return array<string, mixed>
     */
    public function sanitize($input): array
    {
        $current = get_option(Settings::OPTION, []);
        $sanitizer = new SettingsSanitizer();
        $clean = $sanitizer->sanitize(is_array($input) ? $input : [], is_array($current) ? $current : []);
        foreach ($sanitizer->errors() as $error) {
            add_settings_error(Settings::OPTION, 'gardien_' . $error['field'], $error['message'], 'error');
        }
        return $clean;
    }

    public function action_admin_post_gardien_test_connection(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('Sorry, you are not allowed to manage options for this site.', 'gardien'), 403);
        }
        check_admin_referer(self::TEST_ACTION);
        $result = self::testConnection(Settings::load());
        set_transient('gardien_connection_test_' . get_current_user_id(), $result, MINUTE_IN_SECONDS);
        wp_safe_redirect(admin_url('options-general.php?page=' . self::SLUG . '&gardien_tested=1'));
        exit;
    }

    /**
     * Health (unsigned) then /v1/status (signed): tells a wrong URL from a wrong secret.
     *
     * @return array{type: string, message: string}
     */
    public static function testConnection(Settings $settings): array
    {
        if (!$settings->isConfigured()) {
            return [
                'type' => 'error',
                'message' => __('Enter the service URL and the webhook secret first.', 'gardien'),
            ];
        }
        $client = new Client($settings);
        $health = $client->health();
        if (!$health->isSuccess()) {
            return ['type' => 'error', 'message' => sprintf(
                /* translators: %s: error such as "network" or "HTTP 503 unavailable" */
                __('The service does not answer at this URL (%s).', 'gardien'),
                $health->describe()
            )];
        }
        $status = $client->call('GET', '/v1/status', null, 5);
        if ($status->isSuccess()) {
            $version = is_string($status->json['version'] ?? null) ? $status->json['version'] : '?';
            return [
                'type' => 'success',
                'message' => sprintf(
                    /* translators: %s: service version */
                    __('Connected: the service accepts this site’s signature (version %s).', 'gardien'),
                    $version
                ),
            ];
        }
        if ($status->isNotFound()) {
            return [
                'type' => 'warning',
                'message' => __(
                    'The service answers, but this version has no status endpoint yet, so the secret could not be checked.',
                    'gardien'
                ),
            ];
        }
        if ($status->status === 401) {
            return [
                'type' => 'error',
                'message' => __(
                    'The service answers but refuses the signature: check the site slug and the webhook secret, and this server’s clock.',
                    'gardien'
                ),
            ];
        }
        return ['type' => 'error', 'message' => sprintf(
            /* translators: %s: error such as "HTTP 503 unavailable" */
            __('The service answered with an error (%s).', 'gardien'),
            $status->describe()
        )];
    }

    public function render(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        $settings = Settings::load();
        $values = $settings->toArray();
        $test = get_transient('gardien_connection_test_' . get_current_user_id());
        echo '<div class="wrap"><h1>' . esc_html__('Gardien settings', 'gardien') . '</h1>';
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only the flag of our own redirect after the nonce-checked connection test; the result comes from this user's transient.
        if (is_array($test) && isset($_GET['gardien_tested'])) {
            delete_transient('gardien_connection_test_' . get_current_user_id());
            printf(
                '<div class="notice notice-%s is-dismissible"><p>%s</p></div>',
                esc_attr($test['type']),
                esc_html($test['message'])
            );
        }
        // Errors of the save (and "Settings saved.") are shown by options-head.php for Settings screens.
        echo '<form method="post" action="options.php">';
        settings_fields(self::GROUP);

        echo '<h2 class="title">' . esc_html__('Service', 'gardien') . '</h2>';
        echo '<table class="form-table" role="presentation"><tbody>';
        $this->textRow(
            'service_url',
            __('Service URL', 'gardien'),
            'url',
            (string) $values['service_url'],
            __('The address of your Gardien service, such as https://gardien.example.fr.', 'gardien')
        );
        $this->textRow(
            'site',
            __('Site slug', 'gardien'),
            'text',
            (string) $values['site'],
            __(
                'The name this site has on the service. Leave “default” if the service serves only this site.',
                'gardien'
            )
        );
        $this->secretRow($settings);
        echo '</tbody></table>';

        echo '<h2 class="title">' . esc_html__('Contact forms', 'gardien') . '</h2>';
        echo '<table class="form-table" role="presentation"><tbody><tr><th scope="row">'
            . esc_html__('Forms to capture', 'gardien') . '</th><td><fieldset>';
        $sources = [
            'own' => __('Gardien’s own form (shortcode [gardien_contact] and block)', 'gardien'),
            'cf7' => __('Contact Form 7 (forms set to do_not_store are skipped)', 'gardien'),
            'wpforms' => __('WPForms', 'gardien'),
            'gravityforms' => __('Gravity Forms (entries marked as spam are skipped)', 'gardien'),
        ];
        foreach ($sources as $source => $label) {
            printf(
                '<label><input type="checkbox" name="%s[forms][]" value="%s"%s> %s</label><br>',
                esc_attr(Settings::OPTION),
                esc_attr($source),
                checked($settings->captures($source), true, false),
                esc_html($label)
            );
        }
        echo '</fieldset></td></tr></tbody></table>';

        echo '<h2 class="title">' . esc_html__('Statistics', 'gardien') . '</h2>';
        echo '<table class="form-table" role="presentation"><tbody><tr><th scope="row">'
            . esc_html__('Page views', 'gardien') . '</th><td><fieldset>';
        $flags = [
            'stats_enabled' => __('Count page views on the server (no cookie, no script)', 'gardien'),
            'stats_honour_dnt' => __(
                'Skip visitors whose browser sends Do Not Track or Global Privacy Control',
                'gardien'
            ),
            'stats_track_404' => __('Also count “page not found” errors', 'gardien'),
            'stats_track_editors' => __('Also count visits of logged-in editors and administrators', 'gardien'),
            'stats_beacon' => __(
                'Count page views with a small cookie-less script, for pages served by a page cache (chosen automatically when a page cache is active)',
                'gardien'
            ),
        ];
        foreach ($flags as $flag => $label) {
            printf(
                '<label><input type="checkbox" name="%s[%s]" value="1"%s> %s</label><br>',
                esc_attr(Settings::OPTION),
                esc_attr($flag),
                checked(!empty($values[$flag]), true, false),
                esc_html($label)
            );
        }
        echo '</fieldset></td></tr>';
        $this->proxyRows($settings);
        echo '</tbody></table>';

        submit_button();
        echo '</form>';

        echo '<h2 class="title">' . esc_html__('Connection', 'gardien') . '</h2>';
        echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
        echo '<input type="hidden" name="action" value="' . esc_attr(self::TEST_ACTION) . '">';
        wp_nonce_field(self::TEST_ACTION);
        echo '<p>'
            . esc_html__(
                'Checks that the service answers and accepts this site’s signature, with the saved settings.',
                'gardien'
            )
            . '</p>';
        submit_button(__('Test connection', 'gardien'), 'secondary', 'submit', false);
        echo '</form></div>';
    }

    private function textRow(string $key, string $label, string $type, string $value, string $help): void
    {
        $locked = Settings::isLocked($key);
        printf(
            '<tr><th scope="row"><label for="gardien-%1$s">%2$s</label></th><td><input id="gardien-%1$s" '
                . 'class="regular-text" type="%3$s" name="%4$s[%1$s]" value="%5$s"%6$s><p '
                . 'class="description">%7$s</p></td></tr>',
            esc_attr($key),
            esc_html($label),
            esc_attr($type),
            esc_attr(Settings::OPTION),
            esc_attr($value),
            $locked ? ' disabled' : '',
            esc_html($locked ? self::lockedHelp($key) : $help)
        );
    }

    private function secretRow(Settings $settings): void
    {
        $locked = Settings::isLocked('webhook_secret');
        $stored = $settings->webhookSecret() !== '';
        $help = $locked ? self::lockedHelp('webhook_secret') : ($stored
            ? __('A secret is saved and is not shown. Enter a new one only to replace it.', 'gardien')
            : __('The whsec_… secret the service gave for this site.', 'gardien'));
        printf(
            '<tr><th scope="row"><label for="gardien-webhook_secret">%1$s</label></th><td><input '
                . 'id="gardien-webhook_secret" class="regular-text" type="password" name="%2$s[webhook_secret]" '
                . 'value="" autocomplete="new-password" placeholder="%3$s"%4$s><p '
                . 'class="description">%5$s</p></td></tr>',
            esc_html__('Webhook secret', 'gardien'),
            esc_attr(Settings::OPTION),
            esc_attr($stored ? '••••••••' : 'whsec_…'),
            $locked ? ' disabled' : '',
            esc_html($help)
        );
    }

    private function proxyRows(Settings $settings): void
    {
        $headers = [
            '' => __('None: the connection’s address (REMOTE_ADDR)', 'gardien'),
            'HTTP_CF_CONNECTING_IP' => 'CF-Connecting-IP (Cloudflare)',
            'HTTP_X_FORWARDED_FOR' => 'X-Forwarded-For',
            'HTTP_X_REAL_IP' => 'X-Real-IP',
        ];
        echo '<tr><th scope="row"><label for="gardien-ip_header">'
            . esc_html__('Visitor address header', 'gardien') . '</label></th><td>';
        printf('<select id="gardien-ip_header" name="%s[ip_header]">', esc_attr(Settings::OPTION));
        foreach ($headers as $header => $label) {
            printf(
                '<option value="%s"%s>%s</option>',
                esc_attr($header),
                selected($settings->ipHeader(), $header, false),
                esc_html($label)
            );
        }
        echo '</select><p class="description">'
            . esc_html__(
                'Only behind a reverse proxy or CDN. The header is read only when the request comes from one of the trusted proxies below.',
                'gardien'
            )
            . '</p></td></tr>';
        printf(
            '<tr><th scope="row"><label for="gardien-trusted_proxies">%1$s</label></th><td><textarea '
                . 'id="gardien-trusted_proxies" class="large-text code" rows="3" '
                . 'name="%2$s[trusted_proxies]">%3$s</textarea><p class="description">%4$s</p></td></tr>',
            esc_html__('Trusted proxies', 'gardien'),
            esc_attr(Settings::OPTION),
            esc_textarea(implode("\n", $settings->trustedProxies())),
            esc_html__('One IP address or CIDR range per line, such as 173.245.48.0/20.', 'gardien')
        );
    }

    private static function lockedHelp(string $key): string
    {
        return sprintf(
            /* translators: %s: name of a PHP constant */
            __('Set by the %s constant in wp-config.php.', 'gardien'),
            Settings::CONSTANTS[$key]
        );
    }
}
