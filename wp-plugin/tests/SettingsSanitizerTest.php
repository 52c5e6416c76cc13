<?php

namespace Gardien\Tests;

use Gardien\Settings;
use Gardien\SettingsSanitizer;
use PHPUnit\Framework\TestCase;

final class SettingsSanitizerTest extends TestCase
{
    private const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

    /**
     * @param array<string, mixed> $input
     * @param array<string, mixed> $current
     * @param list<string> $locked
     * @return array{0: array<string, mixed>, 1: list<string>}
     */
    private static function clean(array $input, array $current = [], array $locked = []): array
    {
        $sanitizer = new SettingsSanitizer($locked);
        $clean = $sanitizer->sanitize($input, $current);
        return [$clean, array_column($sanitizer->errors(), 'field')];
    }

    public function testCheckboxesAndListsAreAllowListed(): void
    {
        [$clean, $errors] = self::clean([
            'stats_enabled' => '1',
            'stats_honour_dnt' => 'on',
            'forms' => ['cf7', 'evil', 'gravityforms'],
            'ip_header' => 'HTTP_X_FORWARDED_FOR',
            'trusted_proxies' => "10.0.0.1\n173.245.48.0/20\n2400:cb00::/32\n",
            'unknown' => 'dropped',
        ]);
        self::assertTrue($clean['stats_enabled']);
        self::assertTrue($clean['stats_honour_dnt']);
        self::assertFalse($clean['stats_track_404']);
        self::assertFalse($clean['stats_track_editors']);
        self::assertSame(['cf7', 'gravityforms'], $clean['forms']);
        self::assertSame('HTTP_X_FORWARDED_FOR', $clean['ip_header']);
        self::assertSame(['10.0.0.1', '173.245.48.0/20', '2400:cb00::/32'], $clean['trusted_proxies']);
        self::assertArrayNotHasKey('unknown', $clean);
        self::assertSame([], $errors);
    }

    public function testAnUnknownHeaderFallsBackToRemoteAddr(): void
    {
        [$clean] = self::clean(['ip_header' => 'HTTP_X_EVIL', 'trusted_proxies' => '10.0.0.1']);
        self::assertSame('', $clean['ip_header']);
    }

    public function testBadProxyEntriesAreDroppedWithAnError(): void
    {
        [$clean, $errors] = self::clean(['trusted_proxies' => "10.0.0.1\nexample.com\n10.0.0.0/33\n::1/129\n::1"]);
        self::assertSame(['10.0.0.1', '::1'], $clean['trusted_proxies']);
        self::assertSame(['trusted_proxies', 'trusted_proxies', 'trusted_proxies'], $errors);
    }

    public function testAProxyHeaderWithoutTrustedProxiesIsFlagged(): void
    {
        [, $errors] = self::clean(['ip_header' => 'HTTP_CF_CONNECTING_IP', 'trusted_proxies' => '']);
        self::assertSame(['ip_header'], $errors);
    }

    public function testNothingCheckedMeansNoFormsAndNoStats(): void
    {
        [$clean] = self::clean([], Settings::defaults());
        self::assertSame([], $clean['forms']);
        self::assertFalse($clean['stats_enabled']);
    }

    public function testConstantsLockTheirFieldsToTheStoredValue(): void
    {
        [$clean] = self::clean(
            ['service_url' => 'https://evil.example', 'site' => 'other', 'webhook_secret' => self::SECRET],
            ['service_url' => 'https://kept.example', 'site' => 'kept', 'webhook_secret' => ''],
            ['service_url', 'site', 'webhook_secret']
        );
        self::assertSame('https://kept.example', $clean['service_url']);
        self::assertSame('kept', $clean['site']);
        self::assertSame('', $clean['webhook_secret']);
    }

    /** @return array<string, array{array<string, string>, array<string, string>, array<string, string>, list<string>}> */
    public static function unlockedFields(): array
    {
        $current = ['service_url' => 'https://kept.example', 'site' => 'kept', 'webhook_secret' => self::SECRET];
        $other = 'whsec_' . base64_encode(str_repeat('s', 32));
        return [
            'https URL, trailing slash trimmed' => [['service_url' => 'https://gardien.example.fr/'], $current,
                ['service_url' => 'https://gardien.example.fr'], []],
            'plain http refused' => [['service_url' => 'http://gardien.example.fr'], $current,
                ['service_url' => 'https://kept.example'], ['service_url']],
            'plain http on loopback' => [['service_url' => 'http://127.0.0.1:8000'], $current,
                ['service_url' => 'http://127.0.0.1:8000'], []],
            'URL with a query refused' => [['service_url' => 'https://g.example/?x=1'], $current,
                ['service_url' => 'https://kept.example'], ['service_url']],
            'empty URL clears it' => [['service_url' => ''], $current, ['service_url' => ''], []],
            'slug' => [['site' => 'atelier-martin'], $current, ['site' => 'atelier-martin'], []],
            'bad slug keeps current' => [['site' => 'Atelier Martin!'], $current, ['site' => 'kept'], ['site']],
            'empty slug is default' => [['site' => ''], $current, ['site' => 'default'], []],
            'empty secret keeps the stored one' => [
                ['webhook_secret' => ''],
                $current,
                ['webhook_secret' => self::SECRET],
                [],
            ],
            'new secret' => [['webhook_secret' => $other], $current, ['webhook_secret' => $other], []],
            'short secret refused' => [['webhook_secret' => 'whsec_c2hvcnQ='], $current,
                ['webhook_secret' => self::SECRET], ['webhook_secret']],
        ];
    }

    /**
     * @dataProvider unlockedFields
     * @param array<string, string> $input
     * @param array<string, string> $current
     * @param array<string, string> $expected
     * @param list<string> $expectedErrors
     */
    public function testUnlockedFieldRules(array $input, array $current, array $expected, array $expectedErrors): void
    {
        [$clean, $errors] = self::clean($input, $current);
        foreach ($expected as $key => $value) {
            self::assertSame($value, $clean[$key], $key);
        }
        self::assertSame($expectedErrors, $errors);
    }

    public function testByDefaultTheWpConfigConstantsLock(): void
    {
        $sanitizer = new SettingsSanitizer();
        $clean = $sanitizer->sanitize(['site' => 'changed'], ['site' => 'kept']);
        self::assertSame(defined('GARDIEN_SITE') ? 'kept' : 'changed', $clean['site']);
    }
}
