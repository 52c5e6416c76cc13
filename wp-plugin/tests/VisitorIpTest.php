<?php

namespace Gardien\Tests;

use Gardien\VisitorIp;
use PHPUnit\Framework\TestCase;

final class VisitorIpTest extends TestCase
{
    private const PROXIES = ['10.0.0.0/8', '2400:cb00::/32'];

    public function testRemoteAddrByDefaultEvenWhenHeadersAreSent(): void
    {
        $server = ['REMOTE_ADDR' => '203.0.113.7', 'HTTP_X_FORWARDED_FOR' => '198.51.100.1'];
        self::assertSame('203.0.113.7', VisitorIp::resolve($server, '', self::PROXIES));
    }

    public function testAHeaderFromAnUntrustedPeerIsIgnored(): void
    {
        $server = ['REMOTE_ADDR' => '203.0.113.7', 'HTTP_CF_CONNECTING_IP' => '198.51.100.1'];
        self::assertSame('203.0.113.7', VisitorIp::resolve($server, 'HTTP_CF_CONNECTING_IP', self::PROXIES));
    }

    public function testASingleAddressHeaderFromATrustedProxy(): void
    {
        $server = ['REMOTE_ADDR' => '2400:cb00:2048::1', 'HTTP_CF_CONNECTING_IP' => '2001:db8::7'];
        self::assertSame('2001:db8::7', VisitorIp::resolve($server, 'HTTP_CF_CONNECTING_IP', self::PROXIES));
    }

    public function testForwardedForIsReadFromTheRightUpToTheFirstUntrustedHop(): void
    {
        $server = ['REMOTE_ADDR' => '10.0.0.2', 'HTTP_X_FORWARDED_FOR' => '1.2.3.4, 198.51.100.9, 10.0.0.5'];
        self::assertSame('198.51.100.9', VisitorIp::resolve($server, 'HTTP_X_FORWARDED_FOR', self::PROXIES));
    }

    public function testGarbageInAHeaderFallsBackToTheProxyAddress(): void
    {
        $server = [
            'REMOTE_ADDR' => '10.0.0.2',
            'HTTP_X_FORWARDED_FOR' => 'unknown, <script>',
            'HTTP_X_REAL_IP' => 'nope',
        ];
        self::assertSame('10.0.0.2', VisitorIp::resolve($server, 'HTTP_X_FORWARDED_FOR', self::PROXIES));
        self::assertSame('10.0.0.2', VisitorIp::resolve($server, 'HTTP_X_REAL_IP', self::PROXIES));
        self::assertSame('', VisitorIp::resolve([], 'HTTP_X_REAL_IP', self::PROXIES));
    }

    /** @return array<string, array{string, string, bool}> */
    public static function ranges(): array
    {
        return [
            'v4 inside /20' => ['173.245.63.255', '173.245.48.0/20', true],
            'v4 outside /20' => ['173.245.64.0', '173.245.48.0/20', false],
            'v4 exact' => ['10.1.2.3', '10.1.2.3', true],
            'v4 /0' => ['8.8.8.8', '0.0.0.0/0', true],
            'v6 inside' => ['2400:cb00:1::1', '2400:cb00::/32', true],
            'v6 outside' => ['2400:cb01::1', '2400:cb00::/32', false],
            'v4 against v6' => ['10.0.0.1', '::/0', false],
            'bad range' => ['10.0.0.1', '10.0.0.0/40', false],
        ];
    }

    /** @dataProvider ranges */
    public function testRanges(string $ip, string $range, bool $inside): void
    {
        self::assertSame($inside, VisitorIp::inRange($ip, $range));
    }
}
