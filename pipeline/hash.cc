// SPDX-License-Identifier: Apache-2.0
// XXH3-128 through libxxhash.
#include "pipeline/hash.hh"

#include <fmt/format.h>
#include <xxhash.h>

#include <new>

namespace tv::pipeline {

struct streaming_hash::state {
    XXH3_state_t* xxh = nullptr;
};

std::string hash128::hex() const {
    return fmt::format("{:016x}{:016x}", high, low);
}

hash128 xxh3_128(std::span<const std::byte> data) {
    XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
    return hash128{h.high64, h.low64};
}

streaming_hash::streaming_hash() : _state(std::make_unique<state>()) {
    _state->xxh = XXH3_createState();
    if (_state->xxh == nullptr) {
        throw std::bad_alloc();
    }
    XXH3_128bits_reset(_state->xxh);
}

streaming_hash::~streaming_hash() {
    if (_state) {
        XXH3_freeState(_state->xxh);
    }
}

streaming_hash::streaming_hash(streaming_hash&&) noexcept = default;
streaming_hash& streaming_hash::operator=(streaming_hash&& other) noexcept {
    if (this != &other) {
        if (_state) {
            XXH3_freeState(_state->xxh);
        }
        _state = std::move(other._state);
    }
    return *this;
}

void streaming_hash::update(std::span<const std::byte> data) {
    XXH3_128bits_update(_state->xxh, data.data(), data.size());
}

void streaming_hash::reset() {
    XXH3_128bits_reset(_state->xxh);
}

hash128 streaming_hash::digest() const {
    XXH128_hash_t h = XXH3_128bits_digest(_state->xxh);
    return hash128{h.high64, h.low64};
}

}  // namespace tv::pipeline
