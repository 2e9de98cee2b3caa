// SPDX-License-Identifier: Apache-2.0
// hash128: XXH3-128 digests of files and parts, streamed, printed the way `xxhsum -H2` prints
// them, so an operator can check a file by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace tv::pipeline {

struct hash128 {
    uint64_t high = 0;
    uint64_t low = 0;

    /// 32 lowercase hex digits, high half first (xxhsum's canonical form).
    std::string hex() const;
    bool operator==(const hash128&) const = default;
};

/// The digest of one buffer.
hash128 xxh3_128(std::span<const std::byte> data);

/// A digest over bytes given in order, piece by piece.
class streaming_hash {
public:
    streaming_hash();
    ~streaming_hash();
    streaming_hash(streaming_hash&&) noexcept;
    streaming_hash& operator=(streaming_hash&&) noexcept;

    void update(std::span<const std::byte> data);
    hash128 digest() const;
    /// Starts over, as if freshly made (no allocation).
    void reset();

private:
    struct state;
    std::unique_ptr<state> _state;
};

}  // namespace tv::pipeline
