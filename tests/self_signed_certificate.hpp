// A self-signed certificate for "localhost" and 127.0.0.1, made at test time
// with the openssl command in a fresh temporary directory (removed again),
// for the TLS tests of the streams and the HTTP client.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <stdlib.h>

namespace corio_test {

struct self_signed_certificate {
    std::string dir, cert, key;
    self_signed_certificate() {
        char tmpl[] = "/tmp/corio-tls-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                                " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                                " -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
    }
    ~self_signed_certificate() { std::system(("rm -rf " + dir).c_str()); }
    self_signed_certificate(const self_signed_certificate&) = delete;
    self_signed_certificate& operator=(const self_signed_certificate&) = delete;
};

}  // namespace corio_test
