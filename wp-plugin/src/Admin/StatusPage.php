<?php

namespace Gardien\Admin;

defined('ABSPATH') || exit;

use Gardien\Client;
use Gardien\FormCapture;
use Gardien\Outbox;
use Gardien\Response;
use Gardien\Settings;
use Gardien\VisitBuffer;
use Gardien\VisitsSummary;

/**
 * Tools → Gardien: is the service up, what waits in the outbox (and why), each refused message
 * (send it again or delete it), visits of the last seven days, "Retry now". Also the admin
 * notices: messages waiting for more than an hour, a signature the service refuses, refused
 * messages, and refused messages about to be deleted at the end of their retention period.
 */
final class StatusPage
{
    public const SLUG = 'gardien-status';
    private const RETRY_ACTION = 'gardien_retry_now';
    private const ROW_ACTION = 'gardien_failed_row';
    private const NOTICE_AFTER_SECONDS = HOUR_IN_SECONDS;
    /** How long before a refused message is deleted the administrator is warned. */
    private const DELETION_NOTICE_SECONDS = 7 * DAY_IN_SECONDS;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_action('admin_menu', [$this, 'action_admin_menu'], 10, 0);
        add_action('admin_notices', [$this, 'action_admin_notices'], 10, 0);
        add_action('admin_post_' . self::RETRY_ACTION, [$this, 'action_admin_post_gardien_retry_now'], 10, 0);
        add_action('admin_post_' . self::ROW_ACTION, [$this, 'action_admin_post_gardien_failed_row'], 10, 0);
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
        $refused = get_option(Outbox::SIGNATURE_REFUSED_OPTION);
        if (is_array($refused) && $summary['pending'] > 0) {
            $this->notice('error', self::signatureRefusedText($refused, $summary['pending']));
        } elseif ($late) {
            $this->notice('warning', sprintf(
                /* translators: 1: number of messages, 2: time span such as "3 hours" */
                _n(
                    '%1$s message for the Gardien service has been waiting for %2$s.',
                    '%1$s messages for the Gardien service have been waiting for up to %2$s.',
                    $summary['pending'],
                    'gardien'
                ),
                number_format_i18n($summary['pending']),
                human_time_diff($oldest)
            ) . ' ' . __('The service cannot be reached. Messages are kept and sent again automatically.', 'gardien'));
        }
        if ($summary['failed'] > 0) {
            $this->notice('error', sprintf(
                /* translators: %s: number of messages */
                _n(
                    '%s message was refused by the Gardien service and is kept on this site.',
                    '%s messages were refused by the Gardien service and are kept on this site.',
                    $summary['failed'],
                    'gardien'
                ),
                number_format_i18n($summary['failed'])
            ));
        }
        $expiring = $summary['failed'] > 0 ? Outbox::failedDeletedBefore(time() + self::DELETION_NOTICE_SECONDS) : 0;
        if ($expiring > 0) {
            $this->notice('warning', sprintf(
                /* translators: 1: number of messages, 2: a date */
                _n(
                    '%1$s refused message will be deleted on %2$s, at the end of its retention period.',
                    '%1$s refused messages will be deleted from %2$s, at the end of their retention period.',
                    $expiring,
                    'gardien'
                ),
                number_format_i18n($expiring),
                wp_date((string) get_option('date_format'), (int) $summary['next_deletion'])
            ) . ' ' . __('Send them again or note what you need before then.', 'gardien'));
        }
    }

    /**
     * What the administrator reads while the service refuses the signature.
     *
     * @param array<mixed> $refused the Outbox::SIGNATURE_REFUSED_OPTION value
     */
    private static function signatureRefusedText(array $refused, int $pending): string
    {
        return sprintf(
            /* translators: 1: error such as "HTTP 401 unauthorized", 2: time span such as "3 hours" */
            __('The Gardien service refuses this site\'s signature (%1$s) since %2$s.', 'gardien'),
            (string) ($refused['error'] ?? ''),
            human_time_diff((int) ($refused['since'] ?? time()))
        ) . ' ' . __(
            'Check the webhook secret and site slug (wp-config.php or Settings → Gardien) and this server\'s clock.',
            'gardien'
        ) . ' ' . sprintf(
            /* translators: %s: number of messages */
            _n(
                '%s message waits and will be sent again automatically.',
                '%s messages wait and will be sent again automatically.',
                $pending,
                'gardien'
            ),
            number_format_i18n($pending)
        );
    }

    /** One admin notice, with the link to this page. */
    private function notice(string $type, string $text): void
    {
        printf(
            '<div class="notice notice-%s"><p>%s <a href="%s">%s</a></p></div>',
            esc_attr($type),
            esc_html($text),
            esc_url(self::url()),
            esc_html__('See Tools → Gardien', 'gardien')
        );
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

    /** Send one refused message again, or delete it: POST, capability, nonce, then redirect. */
    public function action_admin_post_gardien_failed_row(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('Sorry, you are not allowed to manage options for this site.', 'gardien'), 403);
        }
        $method = isset($_SERVER['REQUEST_METHOD']) ? sanitize_key(wp_unslash($_SERVER['REQUEST_METHOD'])) : '';
        if ($method !== 'post') {
            wp_die(esc_html__('This action needs a form submission.', 'gardien'), 405);
        }
        $id = isset($_POST['row']) ? absint(wp_unslash($_POST['row'])) : 0;
        check_admin_referer(self::ROW_ACTION . '_' . $id);
        $do = isset($_POST['do']) ? sanitize_key(wp_unslash($_POST['do'])) : '';
        $result = ['gardien_row' => 'gone'];
        if ($do === 'delete') {
            $result['gardien_row'] = Outbox::deleteFailed($id) ? 'deleted' : 'gone';
        } elseif ($do === 'retry') {
            $response = (new Outbox($this->settings))->retryFailed($id);
            if ($response !== null) {
                $result = [
                    'gardien_row' => $response->isSuccess()
                        ? 'delivered'
                        : (Outbox::isRetryable($response) ? 'waiting' : 'refused'),
                    'gardien_status' => $response->status,
                    'gardien_error' => $response->errorCode,
                ];
            }
        }
        wp_safe_redirect(add_query_arg(['page' => self::SLUG] + $result, admin_url('tools.php')), 303);
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
        $this->failedTable();
        $this->visitsCard();
        echo '</div>';
    }

    private function retryResult(): void
    {
        $this->rowResult();
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

    /** What became of the refused message the administrator sent again or deleted. */
    private function rowResult(): void
    {
        $outcome = isset($_GET['gardien_row']) ? sanitize_key(wp_unslash($_GET['gardien_row'])) : '';
        $status = isset($_GET['gardien_status']) ? absint($_GET['gardien_status']) : 0;
        $error = isset($_GET['gardien_error']) ? sanitize_key(wp_unslash($_GET['gardien_error'])) : '';
        $described = (new Response($status, null, $error))->describe();
        $texts = [
            'delivered' => ['success', __('Sent again: the service has stored it.', 'gardien')],
            'waiting' => ['warning', sprintf(
                /* translators: %s: error such as "network" */
                __('Sent again: the service could not take it (%s). It will be sent again automatically.', 'gardien'),
                $described
            )],
            'refused' => ['error', sprintf(
                /* translators: %s: error such as "HTTP 409 idempotency_conflict" */
                __('Sent again: the service refused it again (%s).', 'gardien'),
                $described
            )],
            'deleted' => ['success', __('The refused message was deleted from this site.', 'gardien')],
            'gone' => ['warning', __('That message is no longer among the refused messages.', 'gardien')],
        ];
        if (isset($texts[$outcome])) {
            printf(
                '<div class="notice notice-%s is-dismissible"><p>%s</p></div>',
                esc_attr($texts[$outcome][0]),
                esc_html($texts[$outcome][1])
            );
        }
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
        $refused = get_option(Outbox::SIGNATURE_REFUSED_OPTION);
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
        if (is_array($refused)) {
            $this->row(
                __('Signature refused since', 'gardien'),
                sprintf('%s — %s', self::ago((int) ($refused['since'] ?? 0)), (string) ($refused['error'] ?? ''))
            );
        }
        $unstored = Outbox::unstored();
        if ($unstored['count'] > 0) {
            $this->row(__('Form entries that could not be stored', 'gardien'), sprintf(
                /* translators: 1: number of form entries, 2: time such as "5 minutes ago" */
                __('%1$s, the last one %2$s', 'gardien'),
                number_format_i18n($unstored['count']),
                self::ago($unstored['last_at'])
            ));
        }
        $skipped = (int) get_option(FormCapture::SKIPPED_OPTION, 0);
        if ($skipped > 0) {
            $this->row(
                __('Form entries not sent (no e-mail or message found)', 'gardien'),
                number_format_i18n($skipped)
            );
        }
        echo '</tbody></table>';
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

    /**
     * Each refused message: what it is (never what it says), when, why, and its two actions. A
     * list screen of its own, wider than the cards.
     */
    private function failedTable(): void
    {
        $failed = (new Outbox($this->settings))->failedRows();
        if ($failed === []) {
            return;
        }
        echo '<h2>' . esc_html__('Refused messages', 'gardien') . '</h2>';
        printf(
            '<p>%s</p>',
            esc_html(sprintf(
                /* translators: %s: number of days */
                __(
                    'They hold personal data: each is deleted from this site %s days after the service refused it.',
                    'gardien'
                ),
                number_format_i18n(Outbox::failedRetentionDays())
            ))
        );
        echo '<table class="widefat striped gardien-failed"><thead><tr>';
        $headings = [
            __('Message', 'gardien'),
            __('Received', 'gardien'),
            __('Refused', 'gardien'),
            __('Error', 'gardien'),
            __('Attempts', 'gardien'),
            __('Retention', 'gardien'),
            __('Actions', 'gardien'),
        ];
        foreach ($headings as $heading) {
            echo '<th scope="col">' . esc_html($heading) . '</th>';
        }
        echo '</tr></thead><tbody>';
        $format = get_option('date_format') . ' ' . get_option('time_format');
        foreach ($failed as $row) {
            $error = $row['last_status'] === null
                ? (string) $row['last_error']
                : trim($row['last_status'] . ' ' . $row['last_error']);
            $refusedAt = (string) ($row['last_attempt_at'] ?? '') !== '' ? $row['last_attempt_at'] : $row['created_at'];
            printf(
                '<tr><td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>',
                esc_html(self::describeFailed($row)),
                esc_html((string) wp_date($format, (int) strtotime($row['created_at'] . ' UTC'))),
                esc_html((string) wp_date($format, (int) strtotime($refusedAt . ' UTC'))),
                esc_html($error),
                esc_html(number_format_i18n((int) $row['attempts'])),
                esc_html(sprintf(
                    /* translators: %s: a date */
                    __('Deleted on %s', 'gardien'),
                    wp_date((string) get_option('date_format'), Outbox::deletionTime($row))
                ))
            );
            printf(
                '<form method="post" action="%s" class="gardien-failed-row">'
                    . '<input type="hidden" name="action" value="%s">'
                    . '<input type="hidden" name="row" value="%d">'
                    . '<input type="hidden" name="_wpnonce" value="%s">'
                    . '<button type="submit" class="button button-small" name="do" value="retry">%s</button> '
                    . '<button type="submit" class="button button-small button-link-delete" name="do" value="delete">'
                    . '%s</button></form></td></tr>',
                esc_url(admin_url('admin-post.php')),
                esc_attr(self::ROW_ACTION),
                (int) $row['id'],
                esc_attr(wp_create_nonce(self::ROW_ACTION . '_' . (int) $row['id'])),
                esc_html__('Send again', 'gardien'),
                esc_html__('Delete', 'gardien')
            );
        }
        echo '</tbody></table>';
    }

    /**
     * What a refused message is, from its decrypted body: the form it came from, or page views.
     *
     * @param array<string, mixed> $row a row of Outbox::failedRows()
     */
    private static function describeFailed(array $row): string
    {
        switch ($row['kind']) {
            case 'contact':
                /* translators: %s: the form's name, such as "contact" or "cf7-7" */
                return sprintf(__('Contact message, form %s', 'gardien'), (string) $row['form']);
            case 'stats':
                return sprintf(
                    /* translators: %s: number of page views */
                    _n('%s page view', '%s page views', (int) $row['events'], 'gardien'),
                    number_format_i18n((int) $row['events'])
                );
            case 'other':
                return (string) $row['endpoint'];
            default:
                return __('Unreadable: sealed with a key this site no longer has', 'gardien');
        }
    }

    /** What WP-Cron last fetched (VisitsSummary): this screen does not wait on the service for it. */
    private function visitsCard(): void
    {
        echo '<div class="card"><h2 class="title">' . esc_html__('Visits, last 7 days', 'gardien') . '</h2>';
        $entry = (new VisitsSummary($this->settings))->fresh();
        $summary = $entry['summary'];
        if (!$this->settings->isConfigured() || $summary === null) {
            echo '<p>' . esc_html__('Not available right now.', 'gardien') . '</p>';
            if ($this->settings->isConfigured()) {
                DashboardWidget::freshness($entry);
            }
            echo '</div>';
            return;
        }
        printf(
            '<p>%s</p>',
            esc_html(sprintf(
                /* translators: 1: number of visits, 2: number of visitors */
                __('%1$s visits by %2$s visitors.', 'gardien'),
                number_format_i18n($summary['visits']),
                number_format_i18n($summary['visitors'])
            ))
        );
        DashboardWidget::daysTable($summary, '', 'widefat striped');
        DashboardWidget::freshness($entry);
        echo '</div>';
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
