// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestToken} from "./TestToken.sol";

/// @title BlocklistToken (tests only)
/// @notice A TestToken with USDC's and USDT's blocklist: no transfer to or from a blocklisted address.
/// The gate's tests use it as the debt asset to show that an owner on the list cannot block a keeper's
/// transition of its position (what the gate owes the owner is credited to `claimable`).
contract BlocklistToken is TestToken {
    mapping(address account => bool) public blocklisted;

    /// @notice The token refuses a transfer to or from a blocklisted address.
    error BlocklistToken__Blocklisted(address account);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) TestToken(name_, symbol_, decimals_) {}

    /// @notice Puts `account` on the list or takes it off. Anyone may call it: tests only.
    function setBlocklisted(address account, bool listed) external {
        blocklisted[account] = listed;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocklisted[from]) revert BlocklistToken__Blocklisted(from);
        if (blocklisted[to]) revert BlocklistToken__Blocklisted(to);
        super._update(from, to, value);
    }
}
