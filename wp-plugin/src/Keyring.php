<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The sealing keys of the webhook secrets this site has used, so that a new secret in
 * wp-config.php (or on the settings page) never makes a waiting message unreadable.
 *
 * The `gardien_keyring` option holds each key sealed with a key derived from WordPress's
 * AUTH_KEY and AUTH_SALT (wp-config.php), never a secret and never a key in clear: a database
 * dump alone opens nothing. The key of the current secret is remembered before anything is
 * sealed with it; after a change, the next cron run reseals what an earlier key sealed with the
 * current one and forgets the earlier keys.
 */
final class Keyring
{
    public const OPTION = 'gardien_keyring';
    private const RESEAL_CHUNK = 500;

    /** @var array<string, Cipher>|null every key that opens, by id, the current one first */
    private ?array $ciphers = null;

    public function __construct(private Settings $settings)
    {
    }

    /** The key of the current secret, remembered on the ring first. Needs a configured secret. */
    public function current(): Cipher
    {
        $cipher = Cipher::fromSecret($this->settings->webhookSecret());
        $ring = self::load();
        if ($ring['current'] !== $cipher->id() || !isset($ring['keys'][$cipher->id()])) {
            self::remember($cipher, true);
        }
        return $cipher;
    }

    /** Put a key on the ring (a secret the settings page is replacing, or the current one). */
    public static function remember(Cipher $cipher, bool $current): void
    {
        $ring = self::load();
        $ring['keys'][$cipher->id()] = $cipher->wrappedWith(self::wrapping());
        if ($current) {
            $ring['current'] = $cipher->id();
        }
        update_option(self::OPTION, $ring, true);
    }

    /** The plaintext, opened with the current key or an earlier one; null when none opens it. */
    public function open(string $sealed): ?string
    {
        foreach ($this->ciphers() as $cipher) {
            $plain = $cipher->open($sealed);
            if ($plain !== null) {
                return $plain;
            }
        }
        return null;
    }

    /**
     * After a change of secret: reseal with the current key every outbox row and buffered visit
     * that an earlier key sealed, then forget the earlier keys (kept if a row could not be
     * rewritten). Rows that no key opens are left as they are. Returns the rows resealed.
     */
    public function rotate(): int
    {
        $current = $this->current();
        $ring = self::load();
        if (Cipher::unwrap((string) $ring['keys'][$current->id()], self::wrapping()) === null) {
            // WordPress's salts changed: seal the current key again under the new ones.
            self::remember($current, true);
            $ring = self::load();
        }
        if (count($ring['keys']) === 1) {
            return 0;
        }
        $earlier = array_slice($this->ciphers(), 1);
        [$resealed, $stuck] = self::reseal($current, $earlier);
        if (!$stuck) {
            $ring['keys'] = [$current->id() => $ring['keys'][$current->id()]];
            update_option(self::OPTION, $ring, true);
            $this->ciphers = null;
        }
        return $resealed;
    }

    /**
     * @param list<Cipher> $earlier
     * @return array{0: int, 1: bool} rows resealed, and whether one could not be rewritten
     */
    private static function reseal(Cipher $current, array $earlier): array
    {
        global $wpdb;
        $resealed = 0;
        $stuck = false;
        foreach ([Outbox::table(), VisitBuffer::table()] as $table) {
            $after = 0;
            do {
                $rows = $table === Outbox::table()
                    ? $wpdb->get_results($wpdb->prepare(
                        "SELECT id, payload FROM {$wpdb->prefix}gardien_outbox WHERE id > %d ORDER BY id LIMIT %d",
                        $after,
                        self::RESEAL_CHUNK
                    ), ARRAY_A)
                    : $wpdb->get_results($wpdb->prepare(
                        "SELECT id, payload FROM {$wpdb->prefix}gardien_visits WHERE id > %d ORDER BY id LIMIT %d",
                        $after,
                        self::RESEAL_CHUNK
                    ), ARRAY_A);
                foreach ((array) $rows as $row) {
                    $after = (int) $row['id'];
                    $sealed = (string) $row['payload'];
                    if ($current->open($sealed) !== null) {
                        continue;
                    }
                    foreach ($earlier as $cipher) {
                        $plain = $cipher->open($sealed);
                        if ($plain === null) {
                            continue;
                        }
                        // Only if nobody changed the row meanwhile (delivered and deleted, resealed).
                        $updated = $wpdb->update(
                            $table,
                            ['payload' => $current->seal($plain)],
                            ['id' => $after, 'payload' => $sealed]
                        );
                        $resealed += (int) $updated;
                        $stuck = $stuck || $updated === false;
                        break;
                    }
                }
            } while (is_array($rows) && count($rows) === self::RESEAL_CHUNK);
        }
        return [$resealed, $stuck];
    }

    /** @return list<Cipher> the current key first, then every earlier key that still opens */
    private function ciphers(): array
    {
        if ($this->ciphers === null) {
            $current = $this->current();
            $this->ciphers = [$current->id() => $current];
            $wrapping = self::wrapping();
            foreach (self::load()['keys'] as $id => $wrapped) {
                $cipher = isset($this->ciphers[$id]) ? null : Cipher::unwrap((string) $wrapped, $wrapping);
                if ($cipher !== null) {
                    $this->ciphers[$id] = $cipher;
                }
            }
        }
        return array_values($this->ciphers);
    }

    /** @return array{current: string, keys: array<string, string>} */
    private static function load(): array
    {
        $ring = get_option(self::OPTION, []);
        $ring = is_array($ring) ? $ring : [];
        return [
            'current' => (string) ($ring['current'] ?? ''),
            'keys' => is_array($ring['keys'] ?? null) ? $ring['keys'] : [],
        ];
    }

    /** The key that seals the keys: from the salts of wp-config.php, which a dump does not hold. */
    private static function wrapping(): Cipher
    {
        return Cipher::fromMaterial(wp_salt('auth'), 'gardien keyring v1');
    }
}
