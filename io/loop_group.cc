// SPDX-License-Identifier: Apache-2.0
// Creating, running and stopping the loops of the process.
#include "io/loop_group.hh"

#include "io/log.hh"


namespace tv::io {

loop_group::loop_group(unsigned count, loop_options options) {
    if (count == 0) {
        count = std::max(1u, std::thread::hardware_concurrency());
    }
    _loops.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        _loops.push_back(std::make_unique<loop>(options));
        _loops.back()->set_id(i);
    }
    for (unsigned i = 1; i < count; ++i) {
        _threads.emplace_back([l = _loops[i].get()] { l->run_until_stopped(); });
    }
}

loop_group::~loop_group() {
    stop();
}

void loop_group::stop() {
    for (unsigned i = 1; i < _loops.size(); ++i) {
        _loops[i]->request_stop();
    }
    for (auto& t : _threads) {
        if (t.joinable()) {
            t.join();
        }
    }
}

}  // namespace tv::io
