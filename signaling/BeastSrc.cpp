// Boost.Asio, Asio SSL and Beast compiled once (separate-compilation mode), so the server
// translation unit instantiates only its own templates.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
