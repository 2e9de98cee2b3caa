// SPDX-License-Identifier: Apache-2.0
// Real TLS for tests: a throw-away CA and server certificates made with the openssl command,
// and stunnel4 terminating TLS in front of a plain TCP server (RGW, or an echo server).
#pragma once

#include "support/co_test.hh"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace tv::testing {

inline bool have_command(const std::string& name) {
    return std::system(fmt::format("command -v {} > /dev/null 2>&1", name).c_str()) == 0;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A CA and two server certificates signed by it: one for 127.0.0.1, ::1 and localhost, one for
/// other.example only (a name mismatch for anything the tests connect to).
struct test_pki {
    std::string error;  ///< why it could not be made; empty on success
    std::string ca_file;
    std::string server_cert;
    std::string server_key;
    std::string other_cert;
    std::string other_key;
};

inline test_pki make_test_pki(const std::string& dir) {
    test_pki pki;
    if (!have_command("openssl")) {
        pki.error = "the openssl command is not installed";
        return pki;
    }
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir + "/" + name) << text;
    };
    write("server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n");
    write("other.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:other.example\n");
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script = fmt::format(
        "set -e; cd '{0}'; "
        "openssl req -x509 {1} -days 2 -subj '/CN=tabletvault test CA' -keyout ca.key -out ca.pem "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; "
        "for n in server other; do "
        "openssl req -new {1} -subj \"/CN=$n\" -keyout $n.key -out $n.csr; "
        "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $n.ext "
        "-out $n.pem; done",
        dir, ec);
    std::string log = dir + "/openssl.log";
    if (std::system(fmt::format("( {} ) > '{}' 2>&1", script, log).c_str()) != 0) {
        pki.error = "openssl could not make the test certificates: " + read_text(log);
        return pki;
    }
    pki.ca_file = dir + "/ca.pem";
    pki.server_cert = dir + "/server.pem";
    pki.server_key = dir + "/server.key";
    pki.other_cert = dir + "/other.pem";
    pki.other_key = dir + "/other.key";
    return pki;
}

/// A port nobody listens on right now (bound, read, released).
inline uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

inline bool accepts_connections(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}

/// stunnel4 on 127.0.0.1 forwarding to 127.0.0.1:`upstream_port`: `port` shows the certificate
/// for 127.0.0.1/localhost, `other_name_port` the one for other.example, and `idle_close_port`
/// is `port` but closes connections idle for a second (as servers drop keep-alive connections).
/// Stopped (SIGTERM to the process it started) when destroyed.
class tls_terminator {
public:
    tls_terminator() = default;
    tls_terminator(const tls_terminator&) = delete;
    tls_terminator& operator=(const tls_terminator&) = delete;
    ~tls_terminator() { stop(); }

    /// Empty on success, else why it could not start (for GTEST_SKIP or a failure).
    std::string start(const test_pki& pki, const std::string& dir, uint16_t upstream_port) {
        if (!pki.error.empty()) {
            return pki.error;
        }
        if (!have_command("stunnel4")) {
            return "stunnel4 is not installed (scripts/setup installs it)";
        }
        port = free_port();
        other_name_port = free_port();
        idle_close_port = free_port();
        std::string config = dir + "/stunnel.conf";
        _log = dir + "/stunnel.log";
        std::ofstream(config) << fmt::format(
            "foreground = quiet\npid =\noutput = {0}\ndebug = 5\n"
            "[good]\naccept = 127.0.0.1:{1}\nconnect = 127.0.0.1:{3}\ncert = {4}\nkey = {5}\n"
            "[other]\naccept = 127.0.0.1:{2}\nconnect = 127.0.0.1:{3}\ncert = {6}\nkey = {7}\n"
            "[idle]\naccept = 127.0.0.1:{8}\nconnect = 127.0.0.1:{3}\ncert = {4}\nkey = {5}\nTIMEOUTidle = 1\n",
            _log, port, other_name_port, upstream_port, pki.server_cert, pki.server_key, pki.other_cert,
            pki.other_key, idle_close_port);
        _pid = ::fork();
        if (_pid == 0) {
            ::execlp("stunnel4", "stunnel4", config.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (_pid < 0) {
            return "fork failed";
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!accepts_connections(port) || !accepts_connections(other_name_port) ||
               !accepts_connections(idle_close_port)) {
            int status = 0;
            if (::waitpid(_pid, &status, WNOHANG) == _pid) {
                _pid = -1;
                return "stunnel4 exited at start: " + read_text(_log);
            }
            if (std::chrono::steady_clock::now() > deadline) {
                stop();
                return "stunnel4 did not listen within 10 s: " + read_text(_log);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return {};
    }

    void stop() {
        if (_pid > 0) {
            ::kill(_pid, SIGTERM);
            ::waitpid(_pid, nullptr, 0);
            _pid = -1;
        }
    }

    /// stunnel's log: what the server side saw (handshake failures, alerts).
    std::string log() const { return read_text(_log); }

    uint16_t port = 0;
    uint16_t other_name_port = 0;
    uint16_t idle_close_port = 0;

private:
    pid_t _pid = -1;
    std::string _log;
};

}  // namespace tv::testing
