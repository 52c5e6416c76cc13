<?php

namespace Gardien\Tests;

use Gardien\Cipher;
use PHPUnit\Framework\TestCase;

final class CipherTest extends TestCase
{
    private const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

    public function testSealedTextOpensWithTheSameSecretOnly(): void
    {
        $sealed = Cipher::fromSecret(self::SECRET)->seal('{"message":"Bonjour"}');
        self::assertStringNotContainsString('Bonjour', base64_decode(substr($sealed, 3)));
        self::assertSame('{"message":"Bonjour"}', Cipher::fromSecret(self::SECRET)->open($sealed));
        $other = 'whsec_' . base64_encode(str_repeat('k', 32));
        self::assertNull(Cipher::fromSecret($other)->open($sealed));
    }

    public function testEachSealUsesAFreshNonce(): void
    {
        $cipher = Cipher::fromSecret(self::SECRET);
        self::assertNotSame($cipher->seal('same'), $cipher->seal('same'));
    }

    public function testAlteredOrForeignTextDoesNotOpen(): void
    {
        $cipher = Cipher::fromSecret(self::SECRET);
        $sealed = $cipher->seal('payload');
        $raw = base64_decode(substr($sealed, 3));
        $raw[strlen($raw) - 1] = chr(ord($raw[strlen($raw) - 1]) ^ 1);
        self::assertNull($cipher->open('g1:' . base64_encode($raw)));
        self::assertNull($cipher->open('payload'));
        self::assertNull($cipher->open('g1:short'));
    }

    public function testAWrappedKeyOpensWhatItSealedOnlyWithItsWrappingKey(): void
    {
        $cipher = Cipher::fromSecret(self::SECRET);
        $sealed = $cipher->seal('{"message":"Bonjour"}');
        $wrapping = Cipher::fromMaterial(str_repeat('s', 64), 'gardien keyring v1');
        $wrapped = $cipher->wrappedWith($wrapping);

        $unwrapped = Cipher::unwrap($wrapped, $wrapping);
        self::assertNotNull($unwrapped);
        self::assertSame('{"message":"Bonjour"}', $unwrapped->open($sealed));
        self::assertSame($cipher->id(), $unwrapped->id());
        self::assertNull(Cipher::unwrap($wrapped, Cipher::fromMaterial(str_repeat('t', 64), 'gardien keyring v1')));
        self::assertNull(Cipher::unwrap($wrapping->seal('too short for a key'), $wrapping));
    }

    public function testTheKeyIdNamesTheKeyWithoutShowingIt(): void
    {
        $cipher = Cipher::fromSecret(self::SECRET);
        $other = Cipher::fromSecret('whsec_' . base64_encode(str_repeat('k', 32)));
        self::assertMatchesRegularExpression('/^[0-9a-f]{16}$/', $cipher->id());
        self::assertSame($cipher->id(), Cipher::fromSecret(self::SECRET)->id());
        self::assertNotSame($cipher->id(), $other->id());
    }
}
