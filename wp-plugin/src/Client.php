<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The signed HTTP client for the contract: every /v1 call carries the Standard Webhooks headers
 * and X-WP-Site. Uses wp_safe_remote_request (no redirects to internal hosts, TLS verified).
 */
final class Client
{
    public function __construct(private Settings $settings)
    {
    }

    /**
     * Send one signed request. `$webhookId` is the idempotency key: keep it across retries.
     * `$body` is sent byte for byte as signed; a GET signs the empty string.
     */
    public function send(string $method, string $path, string $body, string $webhookId, int $timeout): Response
    {
        if (!$this->settings->isConfigured()) {
            return new Response(0, null, 'not_configured');
        }
        $timestamp = time();
        $headers = (new Signer($this->settings->webhookSecret()))->headers($webhookId, $timestamp, $body);
        $headers['X-WP-Site'] = $this->settings->site();
        $headers['Accept'] = 'application/json';
        if ($method !== 'GET') {
            $headers['Content-Type'] = 'application/json';
        }
        $args = [
            'method' => $method,
            'timeout' => $timeout,
            'redirection' => 0,
            'sslverify' => true,
            'headers' => $headers,
            'user-agent' => 'Gardien/' . GARDIEN_VERSION . '; ' . home_url('/'),
            'limit_response_size' => 4 * MB_IN_BYTES,
        ];
        if ($method !== 'GET') {
            $args['body'] = $body;
        }
        return self::toResponse(wp_safe_remote_request($this->settings->serviceUrl() . $path, $args));
    }

    /**
     * A signed call with a fresh id, for synchronous reads and privacy requests.
     *
     * @param array<string, mixed>|null $payload null for a GET
     */
    public function call(string $method, string $path, ?array $payload = null, int $timeout = 10): Response
    {
        $body = $payload === null ? '' : (string) wp_json_encode(
            $payload,
            JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES
        );
        return $this->send($method, $path, $body, wp_generate_uuid4(), $timeout);
    }

    /** GET /healthz, the only unsigned endpoint. */
    public function health(int $timeout = 5): Response
    {
        if ($this->settings->serviceUrl() === '') {
            return new Response(0, null, 'not_configured');
        }
        return self::toResponse(wp_safe_remote_get($this->settings->serviceUrl() . '/healthz', [
            'timeout' => $timeout,
            'redirection' => 0,
            'sslverify' => true,
        ]));
    }

    /** @param array<mixed>|\WP_Error $raw */
    private static function toResponse(array|\WP_Error $raw): Response
    {
        if (is_wp_error($raw)) {
            return new Response(0, null, 'network');
        }
        $status = (int) wp_remote_retrieve_response_code($raw);
        $json = json_decode((string) wp_remote_retrieve_body($raw), true);
        $json = is_array($json) ? $json : null;
        $code = '';
        if ($status >= 300) {
            $code = is_string($json['error'] ?? null) ? substr(sanitize_key($json['error']), 0, 64) : 'http_' . $status;
        }
        $retryAfter = wp_remote_retrieve_header($raw, 'retry-after');
        $retryAfter = is_string($retryAfter) && ctype_digit($retryAfter) ? (int) $retryAfter : 0;
        return new Response($status, $json, $code, $retryAfter);
    }
}
