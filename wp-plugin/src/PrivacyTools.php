<?php

namespace Gardien;

defined('ABSPATH') || exit;

use WP_Error;

/**
 * WordPress's privacy tools, answered by the service: the personal-data exporter and eraser
 * (Tools → Export / Erase Personal Data), the suggested privacy-policy text, and the
 * [gardien_retention_table] shortcode.
 */
final class PrivacyTools
{
    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_filter('wp_privacy_personal_data_exporters', [$this, 'filter_wp_privacy_personal_data_exporters'], 10, 1);
        add_filter('wp_privacy_personal_data_erasers', [$this, 'filter_wp_privacy_personal_data_erasers'], 10, 1);
        add_action('admin_init', [$this, 'action_admin_init'], 10, 0);
        add_shortcode('gardien_retention_table', [$this, 'shortcode_gardien_retention_table']);
    }

    /**
     * @param array<string, array<string, mixed>> $exporters
     * @return array<string, array<string, mixed>>
     */
    public function filter_wp_privacy_personal_data_exporters(array $exporters): array
    {
        $exporters['gardien'] = [
            'exporter_friendly_name' => __('Gardien: contact messages and client records', 'gardien'),
            'callback' => [$this, 'export'],
        ];
        return $exporters;
    }

    /**
     * @param array<string, array<string, mixed>> $erasers
     * @return array<string, array<string, mixed>>
     */
    public function filter_wp_privacy_personal_data_erasers(array $erasers): array
    {
        $erasers['gardien'] = [
            'eraser_friendly_name' => __('Gardien: contact messages and client records', 'gardien'),
            'callback' => [$this, 'erase'],
        ];
        return $erasers;
    }

    /**
     * One page of the export: first what still waits on this site for the address (the outbox),
     * then the service's pages. An unconfigured plugin holds nothing but that.
     *
     * @return array{data: array<mixed>, done: bool}|WP_Error
     */
    public function export(string $email, int $page = 1): array|WP_Error
    {
        $local = $page <= 1 ? $this->waitingItems($email) : [];
        if (!$this->settings->isConfigured()) {
            return ['data' => $local, 'done' => true];
        }
        $response = $this->ask('/v1/privacy/export', $email, $page);
        if ($response instanceof WP_Error) {
            return $response;
        }
        if (self::refusesAddress($response)) {
            return ['data' => $local, 'done' => true];
        }
        $json = $response->json;
        if (!is_array($json) || !is_array($json['data'] ?? null) || !is_bool($json['done'] ?? null)) {
            return self::unexpected();
        }
        return ['data' => array_merge($local, array_values($json['data'])), 'done' => $json['done']];
    }

    /**
     * One page of the erasure: the messages still waiting on this site for the address are
     * deleted first (a later delivery would undo the erasure), then the service says what it
     * removed, what the retention policy keeps and why. Messages are escaped: core's screen
     * inserts them as HTML.
     *
     * @return array{items_removed: bool, items_retained: bool, messages: list<string>, done: bool}|WP_Error
     */
    public function erase(string $email, int $page = 1): array|WP_Error
    {
        $local = [];
        $deleted = $page <= 1 ? (new Outbox($this->settings))->deletePersonRows($email) : 0;
        if ($deleted > 0) {
            $local[] = esc_html(sprintf(
                /* translators: %d: number of messages */
                _n(
                    '%d message from this address that was waiting on this site to be sent to Gardien was deleted.',
                    '%d messages from this address that were waiting on this site to be sent to Gardien were deleted.',
                    $deleted,
                    'gardien'
                ),
                $deleted
            ));
        }
        if (!$this->settings->isConfigured()) {
            return ['items_removed' => $deleted > 0, 'items_retained' => false, 'messages' => $local, 'done' => true];
        }
        $response = $this->ask('/v1/privacy/erase', $email, $page);
        if ($response instanceof WP_Error) {
            return $response;
        }
        if (self::refusesAddress($response)) {
            $local[] = esc_html__(
                'Gardien has no contact message from this address: its service does not accept it as an e-mail address.',
                'gardien'
            );
            return ['items_removed' => $deleted > 0, 'items_retained' => false, 'messages' => $local, 'done' => true];
        }
        $json = $response->json;
        foreach (['items_removed', 'items_retained', 'done'] as $flag) {
            if (!is_array($json) || !is_bool($json[$flag] ?? null)) {
                return self::unexpected();
            }
        }
        if (!is_array($json['messages'] ?? null)) {
            return self::unexpected();
        }
        $messages = array_map(
            static fn ($message): string => esc_html((string) $message),
            array_values(array_filter($json['messages'], 'is_scalar'))
        );
        return [
            'items_removed' => $json['items_removed'] || $deleted > 0,
            'items_retained' => $json['items_retained'],
            'messages' => array_merge($local, $messages),
            'done' => $json['done'],
        ];
    }

    /**
     * The export items of the messages from this address that wait on this site (not yet
     * delivered, or refused by the service).
     *
     * @return list<array<string, mixed>>
     */
    private function waitingItems(string $email): array
    {
        $items = [];
        foreach ((new Outbox($this->settings))->personRows($email) as $row) {
            $body = $row['body'];
            $data = [
                ['name' => __('Status', 'gardien'), 'value' => $row['status'] === Outbox::FAILED
                    ? __('Refused by the Gardien service, kept on this site until it is deleted', 'gardien')
                    : __('Waiting on this site to be sent to the Gardien service', 'gardien')],
                ['name' => __('Received on', 'gardien'), 'value' => $row['created_at'] . ' UTC'],
                ['name' => __('Form', 'gardien'), 'value' => (string) ($body['form'] ?? '')],
                ['name' => __('Name', 'gardien'), 'value' => (string) ($body['name'] ?? '')],
                ['name' => __('E-mail address', 'gardien'), 'value' => (string) ($body['email'] ?? '')],
            ];
            if (is_string($body['company'] ?? null) && $body['company'] !== '') {
                $data[] = ['name' => __('Company', 'gardien'), 'value' => $body['company']];
            }
            $data[] = ['name' => __('Message', 'gardien'), 'value' => (string) ($body['message'] ?? '')];
            $items[] = [
                'group_id' => 'gardien-waiting',
                'group_label' => __('Messages waiting to be sent (Gardien)', 'gardien'),
                'group_description' => __(
                    'Contact messages kept on this site, encrypted, until the Gardien service receives them.',
                    'gardien'
                ),
                'item_id' => 'gardien-waiting-' . $row['id'],
                'data' => $data,
            ];
        }
        return $items;
    }

    public function action_admin_init(): void
    {
        if (!function_exists('wp_add_privacy_policy_content')) {
            return;
        }
        wp_add_privacy_policy_content(__('Gardien', 'gardien'), $this->suggestedPolicyText());
    }

    /** @param array<string, string>|string $atts */
    public function shortcode_gardien_retention_table($atts = []): string
    {
        $table = (new Policy($this->settings))->tableHtml();
        if ($table === null) {
            return '<p class="gardien-retention-table gardien-retention-table--unavailable">'
                . esc_html__(
                    'The table of retention periods is temporarily unavailable. Please contact us to receive it.',
                    'gardien'
                )
                . '</p>';
        }
        return '<div class="gardien-retention-table">' . $table . '</div>';
    }

    /** The suggested text for Settings → Privacy → policy guide. */
    public function suggestedPolicyText(): string
    {
        $text = '<p class="privacy-policy-tutorial">'
            . esc_html__(
                'Gardien keeps contact messages and page-view statistics of this site on a separate server, encrypted, and deletes them at the end of the periods below. The table is generated from the same policy that the deletion applies.',
                'gardien'
            )
            . '</p>';
        $text .= '<strong class="privacy-policy-tutorial">' . esc_html__('Suggested text:', 'gardien') . ' </strong>';
        $text .= '<p>' . esc_html__(
            'When you write to us through a contact form, your name, e-mail address, company if given, IP address and message are sent to our privacy back office, stored encrypted and deleted when the retention period ends. Page views are counted without keeping your IP address: your country is derived from it, then it is forgotten.',
            'gardien'
        ) . '</p>';
        $table = (new Policy($this->settings))->tableHtml();
        if ($table !== null) {
            $text .= $table;
        }
        return $text;
    }

    /**
     * A signed POST for one email and page; a WP_Error for anything but a 200 with JSON or the
     * service's refusal of the address itself.
     */
    private function ask(string $path, string $email, int $page): Response|WP_Error
    {
        if (!$this->settings->isConfigured()) {
            return new WP_Error(
                'gardien_not_configured',
                __(
                    'Gardien is not configured: set the service URL and webhook secret under Settings → Gardien.',
                    'gardien'
                )
            );
        }
        $response = (new Client($this->settings))->call(
            'POST',
            $path,
            ['email' => $email, 'page' => max(1, $page)],
            20
        );
        if (($response->status === 200 && is_array($response->json)) || self::refusesAddress($response)) {
            return $response;
        }
        if ($response->status === 0) {
            return new WP_Error(
                'gardien_unreachable',
                __(
                    'The Gardien service could not be reached, so this request is not complete. Please try again later.',
                    'gardien'
                )
            );
        }
        return new WP_Error('gardien_refused', sprintf(
            /* translators: %s: HTTP status and error code, e.g. "HTTP 404 not_found" */
            __(
                'The Gardien service did not complete this request (%s). Please try again later or check Tools → Gardien.',
                'gardien'
            ),
            $response->describe()
        ));
    }

    /**
     * A 422 on the address: WordPress's is_email() takes some addresses the service does not
     * (two dots in a row…). POST /v1/contact checks addresses the same way, so no message can be
     * stored under one, and failing the request would stop WordPress's whole export or erasure.
     */
    private static function refusesAddress(Response $response): bool
    {
        return $response->status === 422 && is_array($response->json['fields']['email'] ?? null);
    }

    private static function unexpected(): WP_Error
    {
        return new WP_Error(
            'gardien_unexpected',
            __(
                'The Gardien service sent an answer this plugin does not understand. Please update the plugin or the service.',
                'gardien'
            )
        );
    }
}
