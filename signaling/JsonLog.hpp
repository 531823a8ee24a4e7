#pragma once

namespace rollcall::signaling {

// Switches spdlog's default logger to one JSON object per line for log shippers:
// {"time":"2026-12-02T12:00:00.123Z","level":"warn","thread":1234,"msg":"…"}, the message
// escaped as a JSON string (quotes, backslashes, control characters), time in UTC.
void use_json_logs();

}  // namespace rollcall::signaling
