<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The visitor's address: REMOTE_ADDR, unless the request comes from a trusted reverse proxy and the
 * site chose a header such proxies set (CF-Connecting-IP, X-Forwarded-For, X-Real-IP).
 */
final class VisitorIp
{
    /**
     * @param array<string, mixed> $server         $_SERVER or a copy
     * @param string               $header         a Settings::IP_HEADERS key, '' for REMOTE_ADDR only
     * @param list<string>         $trustedProxies addresses or CIDR ranges
     */
    public static function resolve(array $server, string $header, array $trustedProxies): string
    {
        $remote = self::valid($server['REMOTE_ADDR'] ?? '');
        if ($header === '' || $remote === '' || !self::inAny($remote, $trustedProxies)) {
            return $remote;
        }
        $value = is_string($server[$header] ?? null) ? $server[$header] : '';
        if ($value === '') {
            return $remote;
        }
        if ($header !== 'HTTP_X_FORWARDED_FOR') {
            $candidate = self::valid($value);
            return $candidate === '' ? $remote : $candidate;
        }
        // X-Forwarded-For is "client, proxy1, proxy2": read from the right and stop at the first
        // hop that is not one of ours, since anything left of it could have been forged by the client.
        $hops = array_reverse(array_map('trim', explode(',', $value)));
        foreach ($hops as $hop) {
            $candidate = self::valid($hop);
            if ($candidate === '') {
                return $remote;
            }
            if (!self::inAny($candidate, $trustedProxies)) {
                return $candidate;
            }
        }
        return $remote;
    }

    /** Whether a setting value is an IPv4/IPv6 address or a CIDR range. */
    public static function isAddressOrRange(string $value): bool
    {
        [$address, $bits] = array_pad(explode('/', $value, 2), 2, null);
        $packed = self::valid((string) $address) === '' ? false : inet_pton((string) $address);
        if ($packed === false) {
            return false;
        }
        if ($bits === null) {
            return true;
        }
        return ctype_digit($bits) && (int) $bits <= strlen($packed) * 8;
    }

    /** @param list<string> $ranges */
    public static function inAny(string $ip, array $ranges): bool
    {
        foreach ($ranges as $range) {
            if (self::inRange($ip, $range)) {
                return true;
            }
        }
        return false;
    }

    public static function inRange(string $ip, string $range): bool
    {
        if (!self::isAddressOrRange($range)) {
            return false;
        }
        [$network, $bits] = array_pad(explode('/', $range, 2), 2, null);
        $ipPacked = @inet_pton($ip);
        $netPacked = @inet_pton((string) $network);
        if ($ipPacked === false || $netPacked === false || strlen($ipPacked) !== strlen($netPacked)) {
            return false;
        }
        $bits = $bits === null ? strlen($netPacked) * 8 : (int) $bits;
        $bytes = intdiv($bits, 8);
        if (strncmp($ipPacked, $netPacked, $bytes) !== 0) {
            return false;
        }
        $rest = $bits % 8;
        if ($rest === 0) {
            return true;
        }
        $mask = (0xff << (8 - $rest)) & 0xff;
        return (ord($ipPacked[$bytes]) & $mask) === (ord($netPacked[$bytes]) & $mask);
    }

    private static function valid(mixed $value): string
    {
        $value = is_string($value) ? trim($value) : '';
        return filter_var($value, FILTER_VALIDATE_IP) === false ? '' : $value;
    }
}
