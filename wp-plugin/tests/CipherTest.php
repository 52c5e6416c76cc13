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
}
