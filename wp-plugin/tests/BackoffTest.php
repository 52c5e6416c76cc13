<?php

namespace Gardien\Tests;

use Gardien\Backoff;
use PHPUnit\Framework\TestCase;

final class BackoffTest extends TestCase
{
    public function testNominalDelaysDoubleFromOneMinuteUpToSixHours(): void
    {
        $delays = array_map([Backoff::class, 'nominal'], range(1, 12));
        self::assertSame([60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600, 21600], $delays);
        self::assertSame(21600, Backoff::nominal(1000), 'no overflow after many attempts');
    }

    public function testJitterBoundsAreAQuarterEitherSide(): void
    {
        self::assertSame([45, 75], Backoff::bounds(1));
        self::assertSame([180, 300], Backoff::bounds(3));
        self::assertSame([16200, 27000], Backoff::bounds(20));
    }

    public function testDelaysStayWithinTheBoundsAndActuallyVary(): void
    {
        foreach ([1, 2, 5, 9, 15] as $attempts) {
            [$low, $high] = Backoff::bounds($attempts);
            $seen = [];
            for ($i = 0; $i < 200; $i++) {
                $delay = Backoff::delay($attempts);
                self::assertGreaterThanOrEqual($low, $delay);
                self::assertLessThanOrEqual($high, $delay);
                $seen[$delay] = true;
            }
            self::assertGreaterThan(5, count($seen), "jitter after {$attempts} attempts");
        }
    }

    public function testTheRandomSourceDecidesWithinTheBounds(): void
    {
        $lowest = static fn (int $low, int $high): int => $low;
        $highest = static fn (int $low, int $high): int => $high;
        self::assertSame(90, Backoff::delay(2, 0, $lowest));
        self::assertSame(150, Backoff::delay(2, 0, $highest));
    }

    public function testRetryAfterIsAMinimumUpToTheCap(): void
    {
        $lowest = static fn (int $low, int $high): int => $low;
        self::assertSame(600, Backoff::delay(1, 600, $lowest));
        self::assertSame(45, Backoff::delay(1, 5, $lowest), 'a short Retry-After does not shorten the backoff');
        self::assertSame(Backoff::CAP_SECONDS, Backoff::delay(1, 10 * Backoff::CAP_SECONDS, $lowest));
    }
}
