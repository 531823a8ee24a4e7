#include "signaling/HttpSessions.hpp"

namespace rollcall::signaling {

void serve_tls(HttpServer::Impl& server, std::shared_ptr<TlsStream> stream,
               std::unique_ptr<ConnectionSlot> slot) {
    std::make_shared<HttpSession<TlsStream>>(server, std::move(*stream), std::move(slot))->read();
}

}  // namespace rollcall::signaling
