<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Seals what waits on this server (outbox payloads, buffered visits) with libsodium's secretbox.
 * The key is derived from the webhook secret with HKDF, so a database dump alone does not reveal
 * a visitor's message when the secret lives in wp-config.php. Keyring keeps the keys of earlier
 * secrets, themselves sealed, until nothing waits under them.
 */
final class Cipher
{
    private const FORMAT = 'g1:';

    private function __construct(private string $key)
    {
    }

    public static function fromSecret(string $secret): self
    {
        return self::fromMaterial(Signer::keyFromSecret($secret), 'gardien outbox v1');
    }

    /** A key derived with HKDF-SHA256 from secret material, for one purpose (`$info`). */
    public static function fromMaterial(string $material, string $info): self
    {
        return new self(hash_hkdf('sha256', $material, SODIUM_CRYPTO_SECRETBOX_KEYBYTES, $info));
    }

    /** A cipher from a key that wrappedWith() sealed; null when `$wrapping` cannot open it. */
    public static function unwrap(string $wrapped, self $wrapping): ?self
    {
        $key = $wrapping->open($wrapped);
        return $key !== null && strlen($key) === SODIUM_CRYPTO_SECRETBOX_KEYBYTES ? new self($key) : null;
    }

    /** This cipher's key, sealed with another one: how Keyring stores it. */
    public function wrappedWith(self $wrapping): string
    {
        return $wrapping->seal($this->key);
    }

    /** A short name of the key (an HMAC of it, which reveals nothing of the key itself). */
    public function id(): string
    {
        return substr(hash_hmac('sha256', 'gardien key id', $this->key), 0, 16);
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
