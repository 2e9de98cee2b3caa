// SPDX-License-Identifier: Apache-2.0
// What bounds an HTTP connection's life: a deadline for the peer (the head within
// http_header_timeout_seconds, each piece of a body or of an answer within
// http_idle_timeout_seconds, the next request within the same), and the way a refused
// connection ends (our answer first, then a short drain so the client can read it).
#pragma once

#include "io/task.hh"

#include <chrono>
#include <stop_token>

namespace tv::server {

/// One timer per connection. While armed, whatever the connection waits for from its peer must
/// arrive before the deadline, or every operation waiting on token() is cancelled and expired()
/// says so. Disarmed while the server itself works (a Stream Load writing segments), so only the
/// client's slowness counts. Re-arming moves the deadline without a new timer in the common case
/// (the timer wakes at the old deadline and sleeps on to the new one). One loop's thread only.
class peer_deadline {
public:
    /// token() also fires when `server_stop` does.
    explicit peer_deadline(std::stop_token server_stop);
    peer_deadline(const peer_deadline&) = delete;
    peer_deadline& operator=(const peer_deadline&) = delete;

    /// For every read from and write to the peer.
    std::stop_token token() const { return _expire.get_token(); }
    /// The peer has `timeout` from now.
    void arm(std::chrono::milliseconds timeout);
    /// The server is busy: the peer waits on us, not we on it.
    void disarm() { _armed = false; }
    /// The peer missed an armed deadline (not a server stop).
    bool expired() const { return _expired; }

    /// The timer. Spawn it in a gate that the connection closes after close(): it references
    /// this object until it ends.
    io::task<void> run();
    /// Ends run() soon.
    void close();

private:
    using clock = std::chrono::steady_clock;
    struct forward_stop {
        std::stop_source* to;
        void operator()() const { to->request_stop(); }
    };

    std::stop_source _expire;
    std::stop_callback<forward_stop> _follow_server;
    std::stop_source _wake;  // cancels the timer's sleep when the deadline moves earlier
    clock::time_point _deadline = clock::time_point::max();
    clock::time_point _sleeping_until = clock::time_point::max();
    bool _armed = false;
    bool _expired = false;
    bool _closed = false;
};

/// Ends a connection whose client may still be sending a request we refused (a huge URL, a body
/// over the limit, a bad chunk): our side is shut for writing after the answer already sent, and
/// what the client still sends is read and dropped for up to 2 s or 16 MiB, until it closes.
/// Closing at once would reset the connection with unread bytes, and a reset can make the client
/// lose our answer.
io::task<void> linger_close(int fd, peer_deadline& deadline);

}  // namespace tv::server
