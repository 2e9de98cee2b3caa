// SPDX-License-Identifier: Apache-2.0
// MySQL connections: handshake, authentication (with a switch to mysql_native_password for
// clients that start with caching_sha2_password), and the command loop.
#include "sql/protocol/mysql_server.hh"

#include "io/log.hh"
#include "io/metrics.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "sql/protocol/mysql_messages.hh"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <atomic>

namespace tv::sql {

namespace {

io::metrics::gauge& open_connections =
    io::metrics::process_registry()
        .add_gauge("tabletvault_mysql_connections", "MySQL protocol connections open now (logging in included).")
        .with({});

using namespace mysql;

std::atomic<uint32_t> g_next_connection_id{1};

/// 20 bytes in 1..127: clients treat the scramble as a C string in places, so no NUL.
std::string make_scramble() {
    std::string s(20, '\0');
    if (::getrandom(s.data(), s.size(), 0) != static_cast<ssize_t>(s.size())) {
        throw std::runtime_error("getrandom failed");
    }
    for (char& c : s) {
        c = static_cast<char>(1 + static_cast<unsigned char>(c) % 127);
    }
    return s;
}

/// Tells the client why its connection ends, when the connection can still carry it. `error` is
/// taken by value: a temporary bound to a reference parameter of a coroutine is not kept in the
/// frame by GCC 12.
io::task<void> send_final_error(packet_stream& stream, sql_error error, std::stop_token stop) {
    stream.queue(err_packet(error));
    co_await stream.flush(std::move(stop));
}

sql_error read_failure(const std::error_code& ec, size_t max_packet) {
    if (ec == std::errc::message_size) {
        return make_error(errc::net_packet_too_large, "Got a packet bigger than 'max_allowed_packet' bytes ({})",
                          max_packet);
    }
    return make_error(errc::malformed_packet, "Malformed communication packet.");
}

/// Handshake and authentication; false when the connection must end.
io::task<bool> authenticate(packet_stream& stream, session& s, engine& e, const mysql_server_options& options,
                            std::stop_token stop) {
    const std::string scramble = make_scramble();
    stream.queue(handshake_v10(s.connection_id, scramble, e.options().server_version));
    if (!co_await stream.flush(stop)) {
        co_return false;
    }
    auto first = co_await stream.read(stop);
    if (!first || !*first) {
        if (!first && !io::is_cancelled(first.error())) {
            co_await send_final_error(stream, read_failure(first.error(), options.max_packet), stop);
        }
        co_return false;
    }
    auto response = parse_handshake_response(**first);
    if (!response) {
        co_await send_final_error(stream, make_error(errc::malformed_packet, "Malformed handshake response."), stop);
        co_return false;
    }
    std::string answer = response->auth_response;
    if (!response->plugin.empty() && response->plugin != native_password_plugin) {
        stream.queue(auth_switch_request(native_password_plugin, scramble));
        if (!co_await stream.flush(stop)) {
            co_return false;
        }
        auto switched = co_await stream.read(stop);
        if (!switched || !*switched) {
            co_return false;
        }
        answer = std::move(**switched);
    }
    s.capabilities = response->capabilities & server_capabilities();
    auto authenticated = e.authenticate(s, response->user, scramble, answer);
    if (!authenticated) {
        TV_LOG_INFO("mysql: connection {} from {}: {}", s.connection_id, s.client_host,
                    authenticated.error().message);
        co_await send_final_error(stream, authenticated.error(), stop);
        co_return false;
    }
    if (!response->database.empty()) {
        auto used = e.use_database(s, response->database);
        if (!used) {
            co_await send_final_error(stream, used.error(), stop);
            co_return false;
        }
    }
    stream.queue(ok_packet(0, server_status_autocommit, ""));
    co_return static_cast<bool>(co_await stream.flush(stop));
}

void queue_results(packet_stream& stream, const session& s, const std::vector<statement_result>& results) {
    for (size_t i = 0; i < results.size(); ++i) {
        uint16_t status = server_status_autocommit;
        if (i + 1 < results.size()) {
            status |= server_more_results_exist;
        }
        const auto& r = results[i];
        if (!r) {
            stream.queue(err_packet(r.error()));
        } else if (const auto* ok = std::get_if<ok_result>(&*r)) {
            stream.queue(ok_packet(ok->affected_rows, status, ok->info));
        } else {
            queue_result_set(stream, std::get<result_set>(*r), s.capabilities, status);
        }
    }
}

/// Ends the handshake of a client that takes longer than connect_timeout, unless `cancel` fires
/// first (it logged in).
io::task<void> handshake_deadline(std::stop_source& expire, std::chrono::seconds timeout, std::stop_token cancel) {
    // Bound to a local: GCC 12 compiles `if (co_await ...)` here into a trap.
    auto slept = co_await io::sleep(timeout, std::move(cancel));
    if (slept) {
        expire.request_stop();
    }
}

/// Handshake and login under connect_timeout: the reads are cancelled when it expires.
io::task<bool> authenticate_in_time(packet_stream& stream, session& s, engine& e, const mysql_server_options& options,
                                    std::stop_token server_stop) {
    std::stop_source expire;
    std::stop_callback follow_server(server_stop, [&expire] { expire.request_stop(); });
    std::stop_source logged_in;
    io::gate deadline;
    io::spawn(deadline, handshake_deadline(expire, options.connect_timeout, logged_in.get_token()), "handshake deadline");
    bool ok = co_await authenticate(stream, s, e, options, expire.get_token());
    logged_in.request_stop();
    co_await deadline.close();  // the timer references `expire`: it must end first
    if (!ok && expire.stop_requested() && !server_stop.stop_requested()) {
        TV_LOG_INFO("mysql: connection {} from {} did not log in within {} s", s.connection_id, s.client_host,
                    options.connect_timeout.count());
    }
    co_return ok;
}

/// While a statement runs the connection reads nothing, so a client that leaves would go unseen
/// until its results are sent: this watches for the peer's close and ends the statement.
io::task<void> watch_for_hangup(int fd, connection_state& c, std::stop_token done) {
    auto events = co_await io::poll(fd, POLLRDHUP | POLLHUP | POLLERR, std::move(done));
    if (events && (*events & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
        if (c.running != nullptr) {
            c.running->stop(stop_reason::disconnected);
        }
        c.stop.request_stop();
    }
}

/// Keeps a connection listed in the engine's registry for as long as it is served.
class listed_connection {
public:
    listed_connection(connection_registry& registry, connection_state& c) : _registry(registry), _c(c) {
        _registry.add(_c);
    }
    ~listed_connection() { _registry.remove(_c); }
    listed_connection(const listed_connection&) = delete;
    listed_connection& operator=(const listed_connection&) = delete;

private:
    connection_registry& _registry;
    connection_state& _c;
};

/// Runs one COM_QUERY text with the hang-up watch around it.
io::task<std::vector<statement_result>> run_query_text(engine& e, session& s, connection_state& c, int fd,
                                                       std::string_view text) {
    c.busy = true;
    c.command_since_ms = unix_now_ms();
    std::stop_source statement_done;
    io::gate watch;
    io::spawn(watch, watch_for_hangup(fd, c, statement_done.get_token()), "mysql hang-up watch");
    std::vector<statement_result> results;
    try {
        results = co_await e.execute(s, text, (s.capabilities & client_multi_statements) != 0, &c);
    } catch (const std::exception& ex) {
        // A bug in one statement must cost that statement, not the connection.
        TV_LOG_ERROR("mysql: connection {}: statement failed with an exception: {}", s.connection_id, ex.what());
        results.assign(1, make_error(errc::unknown, "Internal error: {}", ex.what()));
    }
    statement_done.request_stop();
    co_await watch.close();
    c.busy = false;
    c.info.clear();
    c.command_since_ms = unix_now_ms();
    co_return results;
}

io::task<void> serve_client(io::socket_fd fd, engine& e, mysql_server_options options, std::stop_token server_stop) {
    io::metrics::gauge::hold counted(open_connections);
    packet_stream stream(fd.get(), options.max_handshake_packet);
    session s;
    s.connection_id = g_next_connection_id.fetch_add(1, std::memory_order_relaxed);
    s.client_host = io::peer_address(fd.get());
    if (!co_await authenticate_in_time(stream, s, e, options, server_stop)) {
        co_return;
    }
    connection_state conn(s);
    listed_connection listed(e.connections(), conn);
    // Shutdown ends the running statement and the connection, as KILL CONNECTION does.
    std::stop_callback on_shutdown(server_stop, [&conn] {
        if (conn.running != nullptr) {
            conn.running->stop(stop_reason::shutdown);
        }
        conn.stop.request_stop();
    });
    const std::stop_token stop = conn.stop.get_token();
    stream.set_max_payload(options.max_packet);
    for (;;) {
        stream.reset_sequence();
        auto packet = co_await stream.read(stop);
        if (!packet) {
            if (!io::is_cancelled(packet.error()) && packet.error() != std::errc::connection_reset) {
                co_await send_final_error(stream, read_failure(packet.error(), options.max_packet), stop);
            }
            co_return;
        }
        if (!*packet) {
            co_return;  // the client went away
        }
        std::string_view payload = **packet;
        if (payload.empty()) {
            co_await send_final_error(stream, make_error(errc::malformed_packet, "Malformed communication packet."),
                                      stop);
            co_return;
        }
        const uint8_t command = static_cast<uint8_t>(payload[0]);
        payload.remove_prefix(1);
        switch (command) {
        case com_quit:
            co_return;
        case com_reset_connection:
            s.variables.clear();  // as MySQL: session state back to defaults, database kept
            s.user_variables.clear();
            stream.queue(ok_packet(0, server_status_autocommit, ""));
            break;
        case com_ping:
            stream.queue(ok_packet(0, server_status_autocommit, ""));
            break;
        case com_init_db:
            if (auto used = e.use_database(s, payload); !used) {
                stream.queue(err_packet(used.error()));
            } else {
                stream.queue(ok_packet(0, server_status_autocommit, ""));
            }
            break;
        case com_query: {
            std::vector<statement_result> results = co_await run_query_text(e, s, conn, fd.get(), payload);
            if (conn.stop.stop_requested()) {
                // Killed (perhaps by itself), or the client left. Either way the results are
                // dropped; a client still there reads why, as MySQL tells it. The connection's
                // own token has fired, so only a shutdown may cut this last write short.
                sql_error interrupted = make_error(errc::query_interrupted, "Query execution was interrupted");
                co_await send_final_error(stream, std::move(interrupted), server_stop);
                co_return;
            }
            queue_results(stream, s, results);
            if (!co_await stream.flush(stop)) {
                co_return;
            }
            co_await e.after_results_sent(conn);
            continue;
        }
        case com_field_list: {
            payload_parser in(payload);
            std::string table(in.nul_str());
            if (in.failed()) {
                table = std::string(payload);  // some clients omit the terminator
            }
            auto fields = e.field_list(s, table);
            if (fields) {
                queue_field_list(stream, table, *fields, s.capabilities);
            } else {
                stream.queue(err_packet(fields.error()));
            }
            break;
        }
        case com_statistics:
            stream.queue("Uptime: 0  Threads: 1  Questions: 0  Slow queries: 0  Opens: 0  Open tables: 0");
            break;
        default:
            stream.queue(err_packet(make_error(errc::unknown_command, "Unknown command")));
            break;
        }
        if (!co_await stream.flush(stop)) {
            co_return;
        }
    }
}

}  // namespace

io::task<void> run_mysql_server(int listen_fd, engine& e, mysql_server_options options, std::stop_token stop) {
    io::gate connections;
    while (!stop.stop_requested()) {
        auto fd = co_await io::accept(listen_fd, stop);
        if (!fd) {
            if (io::is_cancelled(fd.error())) {
                break;
            }
            TV_LOG_WARN("mysql: accept failed: {}", fd.error().message());
            co_await io::sleep(std::chrono::milliseconds(100), stop);
            continue;
        }
        if (connections.count() >= options.max_connections) {
            io::socket_fd refused(*fd);
            packet_stream stream(refused.get(), 0);
            stream.queue(err_packet(make_error(errc::too_many_connections, "Too many connections")));
            co_await stream.flush(stop);
            continue;
        }
        if (!io::spawn(connections, serve_client(io::socket_fd(*fd), e, options, stop), "mysql connection")) {
            break;
        }
    }
    co_await connections.close();
}

}  // namespace tv::sql
