<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Server-side page views: on a front-end HTML page request, one event (time, URL with its query,
 * visitor address from the trusted setting, user agent, referrer) goes to the visit buffer.
 *
 * On a site whose pages a page cache serves (WP_CACHE with an advanced-cache.php drop-in) or when
 * the setting says so, the page carries a small cookie-less beacon instead, and the event is made
 * when the beacon reaches the REST route: one or the other for a page view, never both.
 */
final class Stats
{
    private const MAX_URL = 2048;
    private const MAX_USER_AGENT = 512;
    public const REST_NAMESPACE = 'gardien/v1';
    public const REST_ROUTE = '/view';

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        if ($this->settings->statsEnabled()) {
            // Late, so that redirects (canonical URLs, logins) have already left the request.
            add_action('template_redirect', [$this, 'action_template_redirect'], 9999, 0);
            add_action('rest_api_init', [$this, 'action_rest_api_init'], 10, 0);
        }
        // Batches are made just before the outbox delivery of the same cron run.
        add_action(Outbox::CRON_HOOK, [$this, 'action_gardien_outbox_delivery'], 5, 0);
    }

    public function action_template_redirect(): void
    {
        if ($this->usesBeacon()) {
            // A page cache may serve this HTML to anyone: the browser and the REST route decide
            // about Do Not Track, Global Privacy Control and prefetching, for each view.
            if ($this->isTrackedRequest(true)) {
                $this->enqueueBeacon();
            }
            return;
        }
        if (!$this->isTrackedRequest()) {
            return;
        }
        // WordPress adds slashes to $_SERVER (wp_magic_quotes); the event wants the raw values.
        (new VisitBuffer($this->settings))->add($this->event(wp_unslash($_SERVER)));
    }

    /** Page views come from the browser's beacon: the setting, or a page cache serves the pages. */
    public function usesBeacon(): bool
    {
        $cached = defined('WP_CACHE') && WP_CACHE && is_file(WP_CONTENT_DIR . '/advanced-cache.php');
        /**
         * Filters whether page views are counted by the cookie-less beacon instead of on the server.
         *
         * @param bool $beacon the setting, or true when a page cache drop-in is active
         */
        return (bool) apply_filters('gardien_stats_beacon', $this->settings->statsBeacon() || $cached);
    }

    private function enqueueBeacon(): void
    {
        wp_enqueue_script(
            'gardien-beacon',
            plugins_url('assets/beacon.js', GARDIEN_PLUGIN_FILE),
            [],
            GARDIEN_VERSION,
            ['in_footer' => true, 'strategy' => 'defer']
        );
        wp_localize_script('gardien-beacon', 'gardienBeacon', [
            'endpoint' => rest_url(self::REST_NAMESPACE . self::REST_ROUTE),
            'honourDnt' => $this->settings->honoursDoNotTrack(),
        ]);
    }

    public function action_rest_api_init(): void
    {
        register_rest_route(self::REST_NAMESPACE, self::REST_ROUTE, [
            'methods' => 'POST',
            'callback' => [$this, 'restView'],
            'permission_callback' => '__return_true',
            'args' => [
                'url' => ['type' => 'string', 'required' => true],
                'referrer' => ['type' => 'string', 'default' => ''],
            ],
        ]);
    }

    /**
     * The beacon of one page view: the page's address (on this site only) and its referrer from
     * the browser; address and user agent from the request, as for server-side counting.
     */
    public function restView(\WP_REST_Request $request): \WP_REST_Response
    {
        $server = wp_unslash($_SERVER);
        $url = esc_url_raw((string) $request->get_param('url'), ['http', 'https']);
        $home = wp_parse_url(home_url('/'));
        $page = wp_parse_url($url);
        $ours = is_array($page) && is_array($home) && ($page['host'] ?? '') === ($home['host'] ?? null)
            && ($page['port'] ?? null) === ($home['port'] ?? null);
        $skip = !$this->usesBeacon() || !$ours || self::isPrefetch($server)
            || ($this->settings->honoursDoNotTrack() && self::optedOut($server));
        if (!$skip && (bool) apply_filters('gardien_track_page_view', true)) {
            $path = (string) ($page['path'] ?? '/') . (isset($page['query']) ? '?' . $page['query'] : '');
            $server['REQUEST_URI'] = $path;
            $server['HTTP_REFERER'] = (string) $request->get_param('referrer');
            (new VisitBuffer($this->settings))->add($this->event($server));
        }
        $response = new \WP_REST_Response(null, 204);
        $response->header('Cache-Control', 'no-store');
        return $response;
    }

    public function action_gardien_outbox_delivery(): void
    {
        (new VisitBuffer($this->settings))->flush(new Outbox($this->settings));
    }

    /**
     * A page a person reads: not admin, REST, AJAX, cron, feeds, previews, embeds, robots…
     * `$page` leaves out what belongs to one request only (prefetch, Do Not Track): the beacon's.
     */
    public function isTrackedRequest(bool $page = false): bool
    {
        $method = isset($_SERVER['REQUEST_METHOD']) ? sanitize_text_field(wp_unslash($_SERVER['REQUEST_METHOD'])) : '';
        if (strtoupper($method) !== 'GET') {
            return false;
        }
        if (is_admin() || wp_doing_ajax() || wp_doing_cron() || (defined('REST_REQUEST') && REST_REQUEST)) {
            return false;
        }
        if (is_feed() || is_preview() || is_robots() || is_trackback() || is_embed() || is_customize_preview()) {
            return false;
        }
        if (function_exists('is_favicon') && is_favicon()) {
            return false;
        }
        if (is_404() && !$this->settings->tracks404()) {
            return false;
        }
        if (current_user_can('edit_posts') && !$this->settings->tracksEditors()) {
            return false;
        }
        if (!$page && self::isPrefetch(wp_unslash($_SERVER))) {
            return false;
        }
        if (!$page && $this->settings->honoursDoNotTrack() && self::optedOut(wp_unslash($_SERVER))) {
            return false;
        }
        return (bool) apply_filters('gardien_track_page_view', true);
    }

    /**
     * A page the browser fetches ahead in case the visitor goes there (speculation rules, link
     * prefetch, Firefox's X-Moz): nobody has read it yet.
     *
     * @param array<string, mixed> $server
     */
    public static function isPrefetch(array $server): bool
    {
        foreach (['HTTP_SEC_PURPOSE', 'HTTP_PURPOSE', 'HTTP_X_PURPOSE', 'HTTP_X_MOZ'] as $header) {
            $value = is_string($server[$header] ?? null) ? strtolower($server[$header]) : '';
            if (str_contains($value, 'prefetch') || str_contains($value, 'prerender') || $value === 'preview') {
                return true;
            }
        }
        return false;
    }

    /**
     * Do-Not-Track or Global Privacy Control sent by the browser.
     *
     * @param array<string, mixed> $server
     */
    public static function optedOut(array $server): bool
    {
        return ($server['HTTP_DNT'] ?? '') === '1' || ($server['HTTP_SEC_GPC'] ?? '') === '1';
    }

    /**
     * The contract's stats event for this request.
     *
     * @param array<string, mixed> $server
     * @return array<string, string>
     */
    public function event(array $server): array
    {
        $uri = is_string($server['REQUEST_URI'] ?? null) ? $server['REQUEST_URI'] : '/';
        $event = [
            'ts' => gmdate('Y-m-d\TH:i:s\Z'),
            'url' => substr(esc_url_raw(FormCapture::origin() . '/' . ltrim($uri, '/')), 0, self::MAX_URL),
        ];
        $ip = VisitorIp::resolve($server, $this->settings->ipHeader(), $this->settings->trustedProxies());
        if ($ip !== '') {
            $event['ip'] = $ip;
        }
        $agent = is_string($server['HTTP_USER_AGENT'] ?? null) ? sanitize_text_field($server['HTTP_USER_AGENT']) : '';
        if ($agent !== '') {
            $event['user_agent'] = substr($agent, 0, self::MAX_USER_AGENT);
        }
        $referrer = is_string($server['HTTP_REFERER'] ?? null) ? $server['HTTP_REFERER'] : '';
        $referrer = $referrer === '' ? '' : esc_url_raw($referrer, ['http', 'https']);
        if ($referrer !== '' && strlen($referrer) <= self::MAX_URL) {
            $event['referrer'] = $referrer;
        }
        return $event;
    }
}
