<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Seals what waits on this server (outbox payloads, buffered visits) with libsodium's secretbox.
 * The key is derived from the webhook secret with HKDF, so a database dump alone does not reveal
 * a visitor's message when the secret lives in wp-config.php.
 */
final class Cipher
{
    private const FORMAT = 'g1:';

    private function __construct(private string $key)
    {
    }

    public static function fromSecret(string $secret): self
    {
        $key = hash_hkdf(
            'sha256',
            Signer::keyFromSecret($secret),
            SODIUM_CRYPTO_SECRETBOX_KEYBYTES,
            'gardien outbox v1'
        );
        return new self($key);
    }

    public function seal(string $plaintext): string
    {
        $nonce = random_bytes(SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        return self::FORMAT . base64_encode($nonce . sodium_crypto_secretbox($plaintext, $nonce, $this->key));
    }

    /** The plaintext, or null when the box was sealed with another key or altered. */
    public function open(string $sealed): ?string
    {
        if (!str_starts_with($sealed, self::FORMAT)) {
            return null;
        }
        $raw = base64_decode(substr($sealed, strlen(self::FORMAT)), true);
        if ($raw === false || strlen($raw) < SODIUM_CRYPTO_SECRETBOX_NONCEBYTES + SODIUM_CRYPTO_SECRETBOX_MACBYTES) {
            return null;
        }
        $nonce = substr($raw, 0, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        $plaintext = sodium_crypto_secretbox_open(substr($raw, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES), $nonce, $this->key);
        return $plaintext === false ? null : $plaintext;
    }
}
