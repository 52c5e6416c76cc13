<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * When to try an undelivered message again: exponential backoff from one minute, capped at six
 * hours, spread by ±25 % jitter so many sites recovering from one outage do not retry in step.
 */
final class Backoff
{
    public const BASE_SECONDS = 60;
    public const CAP_SECONDS = 21600;
    public const JITTER = 0.25;

    /** Delay before the next attempt, without jitter, after `$attempts` failed attempts (≥ 1). */
    public static function nominal(int $attempts): int
    {
        $exponent = max(0, min($attempts - 1, 20));
        return (int) min(self::CAP_SECONDS, self::BASE_SECONDS * (2 ** $exponent));
    }

    /**
     * Smallest and largest delay the jitter can give after `$attempts` failures.
     *
     * @return array{0: int, 1: int}
     */
    public static function bounds(int $attempts): array
    {
        $nominal = self::nominal($attempts);
        return [(int) floor($nominal * (1 - self::JITTER)), (int) ceil($nominal * (1 + self::JITTER))];
    }

    /**
     * Seconds to wait after `$attempts` failed attempts. A server's Retry-After is honoured
     * as a minimum, up to the cap.
     *
     * @param callable(int, int): int|null $random random_int by default; tests pass their own
     */
    public static function delay(int $attempts, int $retryAfter = 0, ?callable $random = null): int
    {
        [$low, $high] = self::bounds($attempts);
        $delay = ($random ?? 'random_int')($low, $high);
        return max($delay, min(max(0, $retryAfter), self::CAP_SECONDS));
    }
}
