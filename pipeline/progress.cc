// SPDX-License-Identifier: Apache-2.0
// transfer_progress: byte counting with a few seconds of samples for the current rate.
#include "pipeline/progress.hh"

namespace tv::pipeline {

void transfer_progress::add_bytes(uint64_t n) {
    uint64_t done = bytes_done.fetch_add(n) + n;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(_mutex);
    // One sample per 100 ms is plenty for a five-second rate.
    if (_samples.empty() || now - _samples.back().first >= std::chrono::milliseconds(100)) {
        _samples.emplace_back(now, done);
    } else {
        _samples.back().second = done;
    }
    while (_samples.size() > 2 && now - _samples[1].first > std::chrono::seconds(5)) {
        _samples.pop_front();
    }
}

void transfer_progress::add_retry(std::string_view reason) {
    ++retries;
    std::lock_guard lock(_mutex);
    _last_retry.assign(reason);
}

std::string transfer_progress::last_retry() const {
    std::lock_guard lock(_mutex);
    return _last_retry;
}

double transfer_progress::current_rate() const {
    constexpr auto window = std::chrono::seconds(5);
    auto now = std::chrono::steady_clock::now();
    uint64_t done = bytes_done.load();
    if (now - started <= window) {
        return average_rate();  // a young transfer: everything it did is recent
    }
    std::lock_guard lock(_mutex);
    if (_samples.empty() || now - _samples.back().first > window) {
        return 0.0;  // nothing moved lately
    }
    // The newest sample at or before the window's start is the baseline (or the oldest kept).
    auto base = _samples.front();
    for (const auto& sample : _samples) {
        if (sample.first > now - window) {
            break;
        }
        base = sample;
    }
    double seconds = std::chrono::duration<double>(now - base.first).count();
    return seconds > 0 ? static_cast<double>(done - base.second) / seconds : 0.0;
}

double transfer_progress::average_rate() const {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return seconds > 0 ? static_cast<double>(bytes_done.load()) / seconds : 0.0;
}

}  // namespace tv::pipeline
