#include "signaling/HttpSessions.hpp"

namespace rollcall::signaling {

void serve_plain(HttpServer::Impl& server, tcp::socket socket,
                 std::unique_ptr<ConnectionSlot> slot) {
    std::make_shared<HttpSession<PlainStream>>(server, PlainStream(std::move(socket)),
                                               std::move(slot))
        ->read();
}

}  // namespace rollcall::signaling
