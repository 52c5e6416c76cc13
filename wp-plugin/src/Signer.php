<?php

namespace Gardien;

defined('ABSPATH') || exit;

use InvalidArgumentException;

/**
 * Standard Webhooks signatures (contract §1): `v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}",
 * keyed with the base64-decoded part of the `whsec_…` secret.
 */
final class Signer
{
    private const PREFIX = 'whsec_';

    private string $key;

    public function __construct(string $secret)
    {
        $this->key = self::keyFromSecret($secret);
    }

    /** The raw HMAC key of a `whsec_…` secret. */
    public static function keyFromSecret(string $secret): string
    {
        $encoded = str_starts_with($secret, self::PREFIX) ? substr($secret, strlen(self::PREFIX)) : $secret;
        $key = base64_decode($encoded, true);
        if ($key === false || $key === '') {
            throw new InvalidArgumentException('The webhook secret is not whsec_ followed by base64.');
        }
        return $key;
    }

    /** A secret the contract accepts: `whsec_` and at least 24 bytes of base64. */
    public static function isValidSecret(string $secret): bool
    {
        if (!str_starts_with($secret, self::PREFIX)) {
            return false;
        }
        $key = base64_decode(substr($secret, strlen(self::PREFIX)), true);
        return $key !== false && strlen($key) >= 24;
    }

    public function sign(string $webhookId, int $timestamp, string $body): string
    {
        $mac = hash_hmac('sha256', $webhookId . '.' . $timestamp . '.' . $body, $this->key, true);
        return 'v1,' . base64_encode($mac);
    }

    /**
     * The three signature headers of one attempt.
     *
     * @return array<string, string>
     */
    public function headers(string $webhookId, int $timestamp, string $body): array
    {
        return [
            'webhook-id' => $webhookId,
            'webhook-timestamp' => (string) $timestamp,
            'webhook-signature' => $this->sign($webhookId, $timestamp, $body),
        ];
    }
}
