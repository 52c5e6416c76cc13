<?php

namespace Gardien\Admin;

defined('ABSPATH') || exit;

use Gardien\Outbox;
use Gardien\Settings;
use Gardien\VisitsSummary;

/**
 * Dashboard → Gardien: visits of the last seven days as a small bar chart (with the figures as a
 * table for screen readers), what waits in the outbox, and links to the service's dashboard and
 * Tools → Gardien. Drawn from what WP-Cron last fetched (VisitsSummary): the dashboard never
 * waits on the service.
 */
final class DashboardWidget
{
    public const ID = 'gardien_dashboard_widget';
    /** The capability of Tools → Gardien. */
    private const CAPABILITY = 'manage_options';
    private const CHART_WIDTH = 350;
    private const CHART_BASELINE = 120;
    private const CHART_BAR_HEIGHT = 95;
    private const CHART_SLOT = 50;
    private const CHART_BAR_WIDTH = 30;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_action('wp_dashboard_setup', [$this, 'action_wp_dashboard_setup'], 10, 0);
    }

    public function action_wp_dashboard_setup(): void
    {
        if (current_user_can(self::CAPABILITY)) {
            wp_add_dashboard_widget(self::ID, __('Gardien', 'gardien'), [$this, 'render']);
        }
    }

    public function render(): void
    {
        if (!current_user_can(self::CAPABILITY)) {
            return;
        }
        echo '<div class="gardien-widget">';
        if (!$this->settings->isConfigured()) {
            printf(
                '<div class="notice notice-warning inline"><p>%s <a href="%s">%s</a></p></div>',
                esc_html__('Gardien is not configured yet.', 'gardien'),
                esc_url(admin_url('options-general.php?page=' . SettingsPage::SLUG)),
                esc_html__('Open Settings → Gardien', 'gardien')
            );
        } else {
            $entry = (new VisitsSummary($this->settings))->fresh();
            if ($entry['summary'] !== null) {
                self::totals($entry['summary']);
                self::chart($entry['summary']);
            }
            self::freshness($entry);
        }
        $this->outbox();
        $this->links();
        echo '</div>';
    }

    /**
     * "1,234 visits by 456 visitors over the last 7 days."
     *
     * @param array{visits: int, visitors: int} $summary
     */
    private static function totals(array $summary): void
    {
        printf(
            '<p class="gardien-widget__totals">%s</p>',
            esc_html(sprintf(
                /* translators: 1: number of visits, 2: number of visitors, 3: number of days */
                __('%1$s visits by %2$s visitors over the last %3$s days.', 'gardien'),
                number_format_i18n($summary['visits']),
                number_format_i18n($summary['visitors']),
                number_format_i18n(VisitsSummary::DAYS)
            ))
        );
    }

    /**
     * The bars as an inline SVG image named by its title, each bar with its own title; the same
     * figures follow as a table that only screen readers announce.
     *
     * @param array{from: string, to: string, days: list<array{date: string, visits: int, visitors: int}>} $summary
     */
    private static function chart(array $summary): void
    {
        $utc = new \DateTimeZone('UTC');
        $dateFormat = (string) get_option('date_format');
        $highest = max(1, ...array_map(static fn (array $day): int => $day['visits'], $summary['days']));
        $title = sprintf(
            /* translators: 1: first day, 2: last day (dates) */
            __('Visits per day from %1$s to %2$s', 'gardien'),
            wp_date($dateFormat, self::timestamp($summary['from']), $utc),
            wp_date($dateFormat, self::timestamp($summary['to']), $utc)
        );
        printf(
            '<svg class="gardien-widget__chart" role="img" aria-labelledby="gardien-widget-chart-title"'
                . ' viewBox="0 0 %1$d 145" width="100%%" height="145" preserveAspectRatio="xMidYMid meet"'
                . ' focusable="false"><title id="gardien-widget-chart-title">%2$s</title>'
                . '<line x1="0" y1="%3$d" x2="%1$d" y2="%3$d" stroke="#8c8f94" stroke-width="1"/>',
            (int) self::CHART_WIDTH,
            esc_html($title),
            (int) self::CHART_BASELINE
        );
        foreach ($summary['days'] as $n => $day) {
            $moment = self::timestamp($day['date']);
            $height = (int) round($day['visits'] / $highest * self::CHART_BAR_HEIGHT);
            $x = $n * self::CHART_SLOT + (self::CHART_SLOT - self::CHART_BAR_WIDTH) / 2;
            $middle = $n * self::CHART_SLOT + self::CHART_SLOT / 2;
            printf(
                '<g class="gardien-widget__day"><title>%1$s</title>'
                    . '<rect class="gardien-widget__bar" data-date="%2$s" data-visits="%3$d"'
                    . ' x="%4$s" y="%5$d" width="%6$d" height="%7$d" fill="#2271b1"/>'
                    . '<text x="%8$s" y="%9$d" text-anchor="middle" font-size="12" fill="#1d2327">%10$s</text>'
                    . '<text x="%8$s" y="%11$d" text-anchor="middle" font-size="12" fill="#1d2327">%12$s</text></g>',
                esc_html(sprintf(
                    /* translators: 1: a date, 2: number of visits */
                    _n('%1$s: %2$s visit', '%1$s: %2$s visits', $day['visits'], 'gardien'),
                    wp_date($dateFormat, $moment, $utc),
                    number_format_i18n($day['visits'])
                )),
                esc_attr($day['date']),
                (int) $day['visits'],
                esc_attr((string) $x),
                (int) (self::CHART_BASELINE - $height),
                (int) self::CHART_BAR_WIDTH,
                (int) $height,
                esc_attr((string) $middle),
                (int) (self::CHART_BASELINE - $height - 4),
                esc_html(number_format_i18n($day['visits'])),
                (int) (self::CHART_BASELINE + 17),
                esc_html((string) wp_date('D', $moment, $utc))
            );
        }
        echo '</svg>';
        echo '<div class="screen-reader-text">';
        self::daysTable($summary, $title);
        echo '</div>';
    }

    /**
     * The days of a summary as a table, a day a row with its visits and visitors (Tools → Gardien
     * shows it as it is; the widget for screen readers, beside its chart).
     *
     * @param array{days: list<array{date: string, visits: int, visitors: int}>} $summary
     */
    public static function daysTable(array $summary, string $caption = '', string $class = ''): void
    {
        $utc = new \DateTimeZone('UTC');
        $dateFormat = (string) get_option('date_format');
        printf('<table class="%s">', esc_attr($class));
        if ($caption !== '') {
            echo '<caption>' . esc_html($caption) . '</caption>';
        }
        echo '<thead><tr>';
        foreach ([__('Day', 'gardien'), __('Visits', 'gardien'), __('Visitors', 'gardien')] as $heading) {
            echo '<th scope="col">' . esc_html($heading) . '</th>';
        }
        echo '</tr></thead><tbody>';
        foreach ($summary['days'] as $day) {
            printf(
                '<tr><th scope="row">%s</th><td>%s</td><td>%s</td></tr>',
                esc_html((string) wp_date($dateFormat, self::timestamp($day['date']), $utc)),
                esc_html(number_format_i18n($day['visits'])),
                esc_html(number_format_i18n($day['visitors']))
            );
        }
        echo '</tbody></table>';
    }

    /**
     * When the figures were fetched, and why they could not be lately: shared with Tools → Gardien.
     *
     * @param array{fetched_at: int, attempted_at: int, error: string, error_status: int, summary: array<string, mixed>|null} $entry
     */
    public static function freshness(array $entry): void
    {
        if ($entry['summary'] !== null) {
            printf(
                '<p class="gardien-widget__updated">%s</p>',
                esc_html(sprintf(
                    /* translators: %s: time span such as "5 minutes" */
                    __('Last updated %s ago.', 'gardien'),
                    human_time_diff($entry['fetched_at'])
                ))
            );
        }
        if ($entry['error'] !== '') {
            $text = $entry['error_status'] === 404
                ? __('Visit figures are not available in this version of the service.', 'gardien')
                : sprintf(
                    /* translators: 1: error such as "network" or "HTTP 401 unauthorized", 2: time span such as "5 minutes" */
                    __('The visit figures could not be updated (%1$s) %2$s ago.', 'gardien'),
                    $entry['error'],
                    human_time_diff($entry['attempted_at'])
                );
            if ($entry['summary'] !== null) {
                $text .= ' ' . __('The figures shown are those of the last update.', 'gardien');
            }
            printf('<div class="notice notice-warning inline"><p>%s</p></div>', esc_html($text));
        } elseif ($entry['summary'] === null) {
            printf(
                '<p class="gardien-widget__updated">%s</p>',
                esc_html__('Not fetched yet: the visit figures appear after the next WP-Cron run.', 'gardien')
            );
        } elseif (VisitsSummary::isStale($entry)) {
            printf(
                '<div class="notice notice-warning inline"><p>%s</p></div>',
                esc_html__('These figures are out of date: WP-Cron has not updated them lately.', 'gardien')
            );
        }
    }

    private function outbox(): void
    {
        $summary = Outbox::summary();
        $waiting = __('No message waiting to be sent to the service.', 'gardien');
        if ($summary['pending'] > 0) {
            $waiting = sprintf(
                /* translators: %s: number of messages */
                _n(
                    '%s message waiting to be sent to the service.',
                    '%s messages waiting to be sent to the service.',
                    $summary['pending'],
                    'gardien'
                ),
                number_format_i18n($summary['pending'])
            );
        }
        printf('<p class="gardien-widget__outbox">%s</p>', esc_html($waiting));
        if ($summary['failed'] > 0) {
            printf(
                '<p class="gardien-widget__refused">%s <a href="%s">%s</a></p>',
                esc_html(sprintf(
                    /* translators: %s: number of messages */
                    _n(
                        '%s message was refused by the Gardien service and is kept on this site.',
                        '%s messages were refused by the Gardien service and are kept on this site.',
                        $summary['failed'],
                        'gardien'
                    ),
                    number_format_i18n($summary['failed'])
                )),
                esc_url(StatusPage::url()),
                esc_html__('See Tools → Gardien', 'gardien')
            );
        }
    }

    private function links(): void
    {
        echo '<p class="gardien-widget__links">';
        if ($this->settings->serviceUrl() !== '') {
            printf(
                '<a href="%s">%s</a> | ',
                esc_url($this->settings->serviceUrl() . '/'),
                esc_html__('Open the Gardien dashboard', 'gardien')
            );
        }
        printf('<a href="%s">%s</a>', esc_url(StatusPage::url()), esc_html__('Gardien status', 'gardien'));
        echo '</p>';
    }

    /** Noon UTC of a day of the summary: formatted in UTC, it is that day. */
    private static function timestamp(string $date): int
    {
        return (int) strtotime($date . ' 12:00:00 UTC');
    }
}
