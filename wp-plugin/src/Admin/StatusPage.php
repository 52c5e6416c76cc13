<?php

namespace Gardien\Admin;

use Gardien\Client;
use Gardien\FormCapture;
use Gardien\Outbox;
use Gardien\Settings;
use Gardien\VisitBuffer;

/**
 * Tools → Gardien: is the service up, what waits in the outbox (and why), visits of the last
 * seven days, "Retry now". Also the admin notice when messages wait for more than an hour.
 */
final class StatusPage
{
    public const SLUG = 'gardien-status';
    private const RETRY_ACTION = 'gardien_retry_now';
    private const NOTICE_AFTER_SECONDS = HOUR_IN_SECONDS;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_action('admin_menu', [$this, 'action_admin_menu'], 10, 0);
        add_action('admin_notices', [$this, 'action_admin_notices'], 10, 0);
        add_action('admin_post_' . self::RETRY_ACTION, [$this, 'action_admin_post_gardien_retry_now'], 10, 0);
    }

    public function action_admin_menu(): void
    {
        add_management_page(
            __('Gardien status', 'gardien'),
            __('Gardien', 'gardien'),
            'manage_options',
            self::SLUG,
            [$this, 'render']
        );
    }

    public function action_admin_notices(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        $summary = Outbox::summary();
        $oldest = $summary['oldest_pending'] === null ? null : strtotime($summary['oldest_pending'] . ' UTC');
        $late = $oldest !== null && $oldest < time() - self::NOTICE_AFTER_SECONDS;
        if (!$late && $summary['failed'] === 0) {
            return;
        }
        $link = sprintf('<a href="%s">%s</a>', esc_url(self::url()), esc_html__('See Tools → Gardien', 'gardien'));
        if ($late) {
            $text = sprintf(
                /* translators: 1: number of messages, 2: time span such as "3 hours" */
                _n(
                    '%1$s message for the Gardien service has been waiting for %2$s: the service cannot be '
                        . 'reached. It is kept and will be sent again automatically.',
                    '%1$s messages for the Gardien service have been waiting for up to %2$s: the service cannot '
                        . 'be reached. They are kept and will be sent again automatically.',
                    $summary['pending'],
                    'gardien'
                ),
                number_format_i18n($summary['pending']),
                human_time_diff($oldest)
            );
            printf('<div class="notice notice-warning"><p>%s %s</p></div>', esc_html($text), $link); // phpcs:ignore -- $link escaped above
        }
        if ($summary['failed'] > 0) {
            $text = sprintf(
                /* translators: %s: number of messages */
                _n(
                    '%s message was refused by the Gardien service and is kept on this site.',
                    '%s messages were refused by the Gardien service and are kept on this site.',
                    $summary['failed'],
                    'gardien'
                ),
                number_format_i18n($summary['failed'])
            );
            printf('<div class="notice notice-error"><p>%s %s</p></div>', esc_html($text), $link); // phpcs:ignore -- $link escaped above
        }
    }

    public function action_admin_post_gardien_retry_now(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('Sorry, you are not allowed to manage options for this site.', 'gardien'), 403);
        }
        check_admin_referer(self::RETRY_ACTION);
        $counts = (new Outbox($this->settings))->retryNow();
        wp_safe_redirect(add_query_arg([
            'page' => self::SLUG,
            'gardien_delivered' => $counts['delivered'],
            'gardien_retrying' => $counts['retrying'],
            'gardien_failed' => $counts['failed'],
        ], admin_url('tools.php')));
        exit;
    }

    public static function url(): string
    {
        return admin_url('tools.php?page=' . self::SLUG);
    }

    public function render(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        echo '<div class="wrap"><h1>' . esc_html__('Gardien status', 'gardien') . '</h1>';
        $this->retryResult();
        if (!$this->settings->isConfigured()) {
            printf(
                '<div class="notice notice-warning inline"><p>%s <a href="%s">%s</a></p></div>',
                esc_html__('Gardien is not configured yet.', 'gardien'),
                esc_url(admin_url('options-general.php?page=' . SettingsPage::SLUG)),
                esc_html__('Open Settings → Gardien', 'gardien')
            );
        }
        $this->serviceCard();
        $this->outboxCard();
        $this->visitsCard();
        echo '</div>';
    }

    private function retryResult(): void
    {
        if (!isset($_GET['gardien_delivered'])) {
            return;
        }
        $delivered = absint($_GET['gardien_delivered']);
        $retrying = absint($_GET['gardien_retrying'] ?? 0);
        $failed = absint($_GET['gardien_failed'] ?? 0);
        $type = ($retrying + $failed) === 0 ? 'success' : 'warning';
        $text = sprintf(
            /* translators: 1: delivered count, 2: count still waiting, 3: count refused */
            __('Retry done: %1$s delivered, %2$s still waiting for the service, %3$s refused.', 'gardien'),
            number_format_i18n($delivered),
            number_format_i18n($retrying),
            number_format_i18n($failed)
        );
        printf('<div class="notice notice-%s is-dismissible"><p>%s</p></div>', esc_attr($type), esc_html($text));
    }

    private function serviceCard(): void
    {
        $client = new Client($this->settings);
        $health = $client->health(3);
        echo '<div class="card"><h2 class="title">' . esc_html__('Service', 'gardien') . '</h2>';
        echo '<table class="widefat striped"><tbody>';
        $this->row(
            __('Address', 'gardien'),
            $this->settings->serviceUrl() === '' ? '—' : $this->settings->serviceUrl()
        );
        $this->row(__('Site slug', 'gardien'), $this->settings->site());
        $this->row(__('Health', 'gardien'), $health->isSuccess()
            ? __('Up', 'gardien')
            /* translators: %s: error such as "network" */
            : sprintf(__('Unreachable (%s)', 'gardien'), $health->describe()));
        if ($health->isSuccess()) {
            $status = $client->call('GET', '/v1/status', null, 3);
            if ($status->isSuccess()) {
                $this->statusRows((array) $status->json);
            } elseif ($status->isNotFound()) {
                $this->row(__('Details', 'gardien'), __('Not available in this version of the service.', 'gardien'));
            } else {
                /* translators: %s: error such as "HTTP 401 unauthorized" */
                $this->row(__('Details', 'gardien'), sprintf(__('Refused (%s)', 'gardien'), $status->describe()));
            }
        }
        echo '</tbody></table>';
        if ($this->settings->serviceUrl() !== '') {
            printf(
                '<p><a class="button" href="%s" target="_blank" rel="noopener">%s</a></p>',
                esc_url($this->settings->serviceUrl() . '/'),
                esc_html__('Open the Gardien dashboard', 'gardien')
            );
        }
        echo '</div>';
    }

    /**
     * What GET /v1/status says: the service's version, what it keeps for this site, and its purge.
     *
     * @param array<mixed> $status
     */
    private function statusRows(array $status): void
    {
        $this->row(__('Version', 'gardien'), is_string($status['version'] ?? null) ? $status['version'] : '—');
        $counts = [
            'messages' => __('Contact messages kept', 'gardien'),
            'legal_holds' => __('Of which under legal hold', 'gardien'),
            'clients' => __('Client records', 'gardien'),
            'stats_events' => __('Page views kept', 'gardien'),
        ];
        foreach ($counts as $key => $label) {
            $this->row($label, is_int($status[$key] ?? null) ? number_format_i18n($status[$key]) : '—');
        }
        $this->row(
            __('Last purge', 'gardien'),
            self::moment($status['last_purge_at'] ?? null, __('Not yet', 'gardien'))
        );
        $this->row(__('Next purge', 'gardien'), self::moment($status['next_purge_at'] ?? null, '—'));
    }

    /** An RFC 3339 time of the service in the site's date and time formats and time zone. */
    private static function moment(mixed $value, string $otherwise): string
    {
        $timestamp = is_string($value) ? strtotime($value) : false;
        if ($timestamp === false) {
            return $otherwise;
        }
        return (string) wp_date(get_option('date_format') . ' ' . get_option('time_format'), $timestamp);
    }

    private function outboxCard(): void
    {
        $summary = Outbox::summary();
        $lastDelivery = (int) get_option(Outbox::LAST_DELIVERY_OPTION, 0);
        $lastError = get_option(Outbox::LAST_ERROR_OPTION, []);
        echo '<div class="card"><h2 class="title">' . esc_html__('Outbox', 'gardien') . '</h2>';
        echo '<p>'
            . esc_html__(
                'Every message is kept here, encrypted, until the service confirms it has stored it.',
                'gardien'
            )
            . '</p>';
        echo '<table class="widefat striped"><tbody>';
        $this->row(__('Waiting', 'gardien'), number_format_i18n($summary['pending']));
        $this->row(__('Refused (kept)', 'gardien'), number_format_i18n($summary['failed']));
        $this->row(
            __('Oldest waiting', 'gardien'),
            $summary['oldest_pending'] === null ? '—' : self::ago((int) strtotime($summary['oldest_pending'] . ' UTC'))
        );
        $this->row(__('Page views not yet batched', 'gardien'), number_format_i18n(VisitBuffer::count()));
        $this->row(
            __('Last delivery', 'gardien'),
            $lastDelivery > 0 ? self::ago($lastDelivery) : __('Never', 'gardien')
        );
        $this->row(__('Last error', 'gardien'), is_array($lastError) && isset($lastError['error'])
            ? sprintf(
                '%s — %s (%s)',
                self::ago((int) $lastError['at']),
                (string) $lastError['error'],
                (string) $lastError['endpoint']
            )
            : __('None', 'gardien'));
        $skipped = (int) get_option(FormCapture::SKIPPED_OPTION, 0);
        if ($skipped > 0) {
            $this->row(
                __('Form entries not sent (no e-mail or message found)', 'gardien'),
                number_format_i18n($skipped)
            );
        }
        echo '</tbody></table>';
        $failed = Outbox::failedRows();
        if ($failed !== []) {
            echo '<h3>' . esc_html__('Refused messages', 'gardien') . '</h3>';
            echo '<table class="widefat striped gardien-failed"><thead><tr>';
            $headings = [
                __('Message id', 'gardien'),
                __('Endpoint', 'gardien'),
                __('Attempts', 'gardien'),
                __('Status', 'gardien'),
                __('Error', 'gardien'),
                __('Created', 'gardien'),
            ];
            foreach ($headings as $heading) {
                echo '<th scope="col">' . esc_html($heading) . '</th>';
            }
            echo '</tr></thead><tbody>';
            foreach ($failed as $row) {
                printf(
                    '<tr><td><code>%s</code></td><td><code>%s</code></td><td>%s</td><td>%s</td>'
                    . '<td><code>%s</code></td><td>%s</td></tr>',
                    esc_html((string) $row['webhook_id']),
                    esc_html((string) $row['endpoint']),
                    esc_html((string) $row['attempts']),
                    esc_html($row['last_status'] === null ? '—' : (string) $row['last_status']),
                    esc_html((string) $row['last_error']),
                    esc_html(self::ago((int) strtotime($row['created_at'] . ' UTC')))
                );
            }
            echo '</tbody></table>';
        }
        echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
        echo '<input type="hidden" name="action" value="' . esc_attr(self::RETRY_ACTION) . '">';
        wp_nonce_field(self::RETRY_ACTION);
        echo '<p>';
        submit_button(
            __('Retry now', 'gardien'),
            'secondary',
            'submit',
            false,
            ($summary['pending'] + $summary['failed']) === 0 ? ['disabled' => 'disabled'] : null
        );
        echo '</p>';
        echo '</form></div>';
    }

    private function visitsCard(): void
    {
        echo '<div class="card"><h2 class="title">' . esc_html__('Visits, last 7 days', 'gardien') . '</h2>';
        $to = gmdate('Y-m-d');
        $from = gmdate('Y-m-d', time() - 6 * DAY_IN_SECONDS);
        $summary = $this->settings->isConfigured()
            ? (new Client($this->settings))->call('GET', '/v1/stats/summary?from=' . $from . '&to=' . $to, null, 3)
            : null;
        if ($summary === null || !$summary->isSuccess() || !is_array($summary->json['days'] ?? null)) {
            $reason = $summary !== null && $summary->isNotFound()
                ? __('Not available in this version of the service.', 'gardien')
                : __('Not available right now.', 'gardien');
            echo '<p>' . esc_html($reason) . '</p></div>';
            return;
        }
        printf(
            '<p>%s</p>',
            esc_html(sprintf(
                /* translators: 1: number of visits, 2: number of visitors */
                __('%1$s visits by %2$s visitors.', 'gardien'),
                number_format_i18n((int) ($summary->json['visits'] ?? 0)),
                number_format_i18n((int) ($summary->json['visitors'] ?? 0))
            ))
        );
        echo '<table class="widefat striped"><thead><tr>';
        foreach ([__('Day', 'gardien'), __('Visits', 'gardien'), __('Visitors', 'gardien')] as $heading) {
            echo '<th scope="col">' . esc_html($heading) . '</th>';
        }
        echo '</tr></thead><tbody>';
        foreach ($summary->json['days'] as $day) {
            if (!is_array($day)) {
                continue;
            }
            printf(
                '<tr><td>%s</td><td>%s</td><td>%s</td></tr>',
                esc_html(date_i18n(get_option('date_format'), (int) strtotime((string) ($day['date'] ?? '')))),
                esc_html(number_format_i18n((int) ($day['visits'] ?? 0))),
                esc_html(number_format_i18n((int) ($day['visitors'] ?? 0)))
            );
        }
        echo '</tbody></table></div>';
    }

    private function row(string $label, string $value): void
    {
        printf('<tr><th scope="row">%s</th><td>%s</td></tr>', esc_html($label), esc_html($value));
    }

    private static function ago(int $timestamp): string
    {
        /* translators: %s: time span such as "5 minutes" */
        return sprintf(__('%s ago', 'gardien'), human_time_diff($timestamp));
    }
}
