// A server TLS context with a fresh self-signed certificate and a client
// context that verifies it, for the TLS tests of the streams.
#pragma once

#include <asio/ssl/context.hpp>

#include "self_signed_certificate.hpp"

namespace corio_test {

struct tls_contexts {
    self_signed_certificate certificate;
    asio::ssl::context server{asio::ssl::context::tls_server};
    asio::ssl::context client{asio::ssl::context::tls_client};
    tls_contexts() {
        server.use_certificate_chain_file(certificate.cert);
        server.use_private_key_file(certificate.key, asio::ssl::context::pem);
        client.set_verify_mode(asio::ssl::verify_peer);
        client.load_verify_file(certificate.cert);
    }
};

}  // namespace corio_test
