// The web client's reconnection policy (web-client/reconnect.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FINAL_CODES, RECONNECT_GIVE_UP_MS, RESUME_REFUSED, reconnectDelay } from '../../web-client/reconnect.js';

test('the delay doubles from about 250 ms to at most 5 s, jittered within its upper half', () => {
  assert.equal(reconnectDelay(0, () => 0), 125);
  assert.equal(reconnectDelay(0, () => 0.999999), 250);
  assert.equal(reconnectDelay(3, () => 0.999999), 2000);
  for (const attempt of [5, 10, 50, 1000]) {
    assert.equal(reconnectDelay(attempt, () => 0.999999), 5000);
    assert.equal(reconnectDelay(attempt, () => 0), 2500);
  }
  const seen = new Set(Array.from({ length: 50 }, () => reconnectDelay(4)));
  assert.ok(seen.size > 10, 'jitter spreads clients out');
});

test('the attempts within the give-up time are bounded', () => {
  let waited = 0;
  let attempts = 0;
  while (waited < RECONNECT_GIVE_UP_MS) waited += reconnectDelay(attempts++, () => 0);
  assert.ok(attempts > 10 && attempts < 40, `${attempts} attempts`);
});

test('refused resumes fall back to a fresh join; token problems stop the retries', () => {
  for (const code of ['resume_used', 'resume_expired', 'resume_invalid']) assert.ok(RESUME_REFUSED.has(code));
  for (const code of ['token_expired', 'token_revoked', 'banned']) assert.ok(FINAL_CODES.has(code));
  assert.ok(!FINAL_CODES.has('server_full'));
  assert.ok(!FINAL_CODES.has('connection_failed'));
});
