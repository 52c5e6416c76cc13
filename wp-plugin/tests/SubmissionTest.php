<?php

namespace Gardien\Tests;

use Gardien\Submission;
use PHPUnit\Framework\TestCase;

final class SubmissionTest extends TestCase
{
    public function testPayloadFollowsTheContract(): void
    {
        $submission = (new Submission(
            'contact',
            'Jeanne',
            'jeanne@example.fr',
            '',
            'Bonjour',
            ['phone' => '0612'],
            null,
            '203.0.113.7',
            'https://example.fr/contact/'
        ))->withConsent(true);
        $payload = $submission->toPayload();
        self::assertMatchesRegularExpression('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/', $payload['submitted_at']);
        unset($payload['submitted_at']);
        self::assertSame([
            'form' => 'contact',
            'name' => 'Jeanne',
            'email' => 'jeanne@example.fr',
            'message' => 'Bonjour',
            'ip' => '203.0.113.7',
            'page' => 'https://example.fr/contact/',
            'consent' => true,
            'fields' => ['phone' => '0612'],
        ], $payload);
        self::assertSame([], $submission->errors());
    }

    public function testAFormWithoutNameOrMessageStillMakesAContactMessage(): void
    {
        $submission = Submission::fromMapped('cf7-1', [
            'email' => 'paul@example.fr',
            'fields' => ['Sujet' => 'Devis', 'Téléphone' => '0612'],
        ], '', '');
        self::assertSame('paul', $submission->name);
        self::assertSame("sujet: Devis\ntelephone: 0612", $submission->message);
        self::assertSame([], $submission->errors());
    }

    public function testContractLimitsAreEnforcedBeforeQueueing(): void
    {
        $fields = [];
        for ($i = 0; $i < 30; $i++) {
            $fields["f{$i}"] = 'v';
        }
        $submission = Submission::fromMapped('x', [
            'name' => str_repeat('n', 500),
            'email' => 'a@b.fr',
            'message' => str_repeat('m', 30000),
            'company' => str_repeat('c', 300),
            'fields' => $fields,
        ], '', '');
        self::assertSame(200, mb_strlen($submission->name));
        self::assertSame(20000, mb_strlen($submission->message));
        self::assertSame(200, mb_strlen($submission->company));
        self::assertCount(20, $submission->fields);
        self::assertSame([], $submission->errors());
    }

    public function testAddressesTheServiceRefusesAreInvalidHereToo(): void
    {
        foreach (['jean..dupont@example.fr', '.jean@example.fr', 'jean.@example.fr', 'jean@example.f'] as $email) {
            self::assertNotFalse(is_email($email), $email . ' passes is_email()');
            self::assertFalse(Submission::isAcceptedEmail($email), $email);
        }
        $long = 'jean@' . str_repeat('a', 64) . '.fr';
        self::assertFalse(Submission::isAcceptedEmail($long));
        foreach (['jean.dupont@example.fr', "o'brien+devis@sub.example.co", 'j@xn--exmple-cua.fr'] as $email) {
            self::assertTrue(Submission::isAcceptedEmail($email), $email);
        }
    }

    public function testInvalidSubmissionsAreReportedByField(): void
    {
        $submission = new Submission('contact', '', 'not-an-address', '', '');
        self::assertSame(['name', 'email', 'message'], array_keys($submission->errors()));
    }
}
