<?php

namespace Gardien\Tests;

use Gardien\Signer;
use InvalidArgumentException;
use PHPUnit\Framework\TestCase;

final class SignerTest extends TestCase
{
    /** @return array<string, mixed> */
    private static function vector(): array
    {
        $path = dirname(__DIR__, 2) . '/tests/vectors/webhook_signature.json';
        self::assertFileExists($path, 'the vector shared with the Python verifier');
        return json_decode((string) file_get_contents($path), true, 512, JSON_THROW_ON_ERROR);
    }

    public function testReproducesTheSharedVector(): void
    {
        $vector = self::vector();
        $signer = new Signer($vector['secret']);
        self::assertSame($vector['signature'], $signer->sign($vector['msg_id'], $vector['timestamp'], $vector['body']));
    }

    public function testHeadersCarryIdTimestampAndSignature(): void
    {
        $vector = self::vector();
        $headers = (new Signer($vector['secret']))->headers($vector['msg_id'], $vector['timestamp'], $vector['body']);
        self::assertSame([
            'webhook-id' => $vector['msg_id'],
            'webhook-timestamp' => (string) $vector['timestamp'],
            'webhook-signature' => $vector['signature'],
        ], $headers);
    }

    public function testEveryByteOfIdTimestampAndBodyIsSigned(): void
    {
        $vector = self::vector();
        $signer = new Signer($vector['secret']);
        $reference = $vector['signature'];
        self::assertNotSame($reference, $signer->sign($vector['msg_id'], $vector['timestamp'] + 1, $vector['body']));
        self::assertNotSame($reference, $signer->sign($vector['msg_id'] . 'x', $vector['timestamp'], $vector['body']));
        self::assertNotSame($reference, $signer->sign($vector['msg_id'], $vector['timestamp'], $vector['body'] . ' '));
    }

    public function testAnEmptyBodyIsSignedForGetRequests(): void
    {
        $signer = new Signer(self::vector()['secret']);
        $expected = 'v1,' . base64_encode(
            hash_hmac('sha256', 'id.1.', Signer::keyFromSecret(self::vector()['secret']), true)
        );
        self::assertSame($expected, $signer->sign('id', 1, ''));
    }

    public function testTheKeyIsTheDecodedPartOfTheSecret(): void
    {
        self::assertSame(
            str_repeat("\x01", 24),
            Signer::keyFromSecret('whsec_' . base64_encode(str_repeat("\x01", 24)))
        );
    }

    /** @return array<string, array{string, bool}> */
    public static function secrets(): array
    {
        return [
            'valid' => ['whsec_' . base64_encode(random_bytes(32)), true],
            'exactly 24 bytes' => ['whsec_' . base64_encode(random_bytes(24)), true],
            'too short' => ['whsec_' . base64_encode(random_bytes(16)), false],
            'no prefix' => [base64_encode(random_bytes(32)), false],
            'not base64' => ['whsec_not*base64!', false],
            'empty' => ['', false],
        ];
    }

    /** @dataProvider secrets */
    public function testSecretValidation(string $secret, bool $valid): void
    {
        self::assertSame($valid, Signer::isValidSecret($secret));
    }

    public function testAnUnreadableSecretIsRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        new Signer('whsec_***');
    }
}
