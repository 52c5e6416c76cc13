<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * What the service answered to one request, or why it could not be reached (status 0).
 * `errorCode` is the contract's error code, or a local one (`network`, `not_configured`);
 * it never holds submitted personal data.
 */
final class Response
{
    /** @param array<mixed>|null $json */
    public function __construct(
        public readonly int $status,
        public readonly ?array $json,
        public readonly string $errorCode = '',
        public readonly int $retryAfter = 0
    ) {
    }

    public function isSuccess(): bool
    {
        return $this->status >= 200 && $this->status < 300;
    }

    /**
     * The contract's retryable outcomes: no answer, 5xx, 429. Anything else that is not a 2xx
     * is kept as failed (a 3xx means a wrong service URL, which retrying will not fix either).
     */
    public function isRetryable(): bool
    {
        return $this->status === 0 || $this->status === 429 || $this->status >= 500;
    }

    public function isNotFound(): bool
    {
        return $this->status === 404;
    }

    /** Short text for an administrator: "HTTP 401 unauthorized", "network". */
    public function describe(): string
    {
        if ($this->status === 0) {
            return $this->errorCode;
        }
        return trim('HTTP ' . $this->status . ' ' . $this->errorCode);
    }
}
