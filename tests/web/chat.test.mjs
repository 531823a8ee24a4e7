// The web client's room-data helpers (web-client/chat.js), without a browser.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TEXT, chatLine, interpret, withHand } from '../../web-client/chat.js';
import { badgesFor, initialRoom } from '../../web-client/room-state.js';

describe('room data', () => {
  test('chat, hands and reactions as the server stamps them', () => {
    assert.deepEqual(interpret('{"type":"chat","text":"hi","from":"bob","ts":1000}'),
      { kind: 'chat', from: 'bob', at: 1000, text: 'hi' });
    assert.deepEqual(interpret('{"type":"hand","raised":true,"from":"bob","ts":5}'),
      { kind: 'hand', from: 'bob', at: 5, raised: true });
    assert.equal(interpret('{"type":"hand","raised":"yes","from":"bob","ts":5}').raised, false);
    assert.equal(interpret('{"type":"reaction","emoji":"👍","from":"bob","ts":5}').emoji, '👍');
    assert.equal(interpret('{"type":"chat","text":"' + 'x'.repeat(MAX_TEXT + 10) + '","from":"b","ts":1}').text.length, MAX_TEXT);
  });

  test('a message without "from" is the server\'s: only its errors mean something', () => {
    assert.deepEqual(interpret('{"type":"error","code":"rate_limited","message":"slow down","ts":1}'),
      { kind: 'error', code: 'rate_limited', message: 'slow down' });
    assert.equal(interpret('{"type":"chat","text":"hi"}'), null);  // unstamped chat: not from the server
  });

  test('anything else is ignored', () => {
    for (const text of ['not json', '[]', 'null', '3', '{"type":"chat","text":"","from":"b"}',
      '{"type":"chat","text":3,"from":"b"}', '{"type":"reaction","emoji":"💣","from":"b"}', '{"type":"other","from":"b"}']) {
      assert.equal(interpret(text), null, text);
    }
  });

  test('chat lines: our own marked, others by the room\'s name for them', () => {
    const names = (id) => ({ bob: 'Bob' }[id] ?? id);
    assert.equal(chatLine({ from: 'ada', at: 0, text: 'x' }, 'ada', names).mine, true);
    assert.equal(chatLine({ from: 'ada', at: 0, text: 'x' }, 'ada', names).name, 'You');
    const line = chatLine({ from: 'bob', at: 0, text: 'hello' }, 'ada', names);
    assert.equal(line.name, 'Bob');
    assert.equal(line.mine, false);
    assert.equal(line.text, 'hello');
  });

  test('hands go up and down, and show on the tile first', () => {
    let hands = withHand(new Set(), { from: 'bob', raised: true });
    assert.ok(hands.has('bob'));
    const before = hands;
    hands = withHand(hands, { from: 'bob', raised: false });
    assert.ok(!hands.has('bob'));
    assert.ok(before.has('bob'), 'not modified in place');
    const badges = badgesFor(initialRoom(), 'p:bob', { identity: 'bob', tracks: [] }, { hand: true });
    assert.equal(badges[0].kind, 'hand');
  });
});
