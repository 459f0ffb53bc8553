// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestToken} from "./TestToken.sol";

/// @title ReentrantToken (tests only)
/// @notice A TestToken that, once armed, calls `target` with chosen calldata whenever `target` sends
/// tokens (the hook an ERC-777 `tokensReceived` or a malicious token gives the recipient's side):
/// the gate's reentrancy tests re-enter it in the middle of its own token movements
/// (test/liquidation-gate.test.ts). `bubble` re-raises the inner call's revert, so the outer call
/// fails with exactly the inner error; otherwise the inner call's return data is kept in `lastReturn`
/// (a view of the gate read mid-transfer: what its state already says at that point).
contract ReentrantToken is TestToken {
    address public target;
    bytes public hookData;
    bool public bubble;
    bool public lastSuccess;
    bytes public lastReturn;
    uint256 public calls;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) TestToken(name_, symbol_, decimals_) {}

    /// @notice From now on, every transfer out of `target_` calls `target_` with `data` (once per transfer).
    function arm(address target_, bytes calldata data, bool bubble_) external {
        target = target_;
        hookData = data;
        bubble = bubble_;
    }

    /// @notice Stops the hook.
    function disarm() external {
        target = address(0);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t == address(0) || from != t) return;
        // Disarmed during the inner call, so the hook fires once per outer transfer.
        target = address(0);
        (bool ok, bytes memory ret) = t.call(hookData);
        target = t;
        ++calls;
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        lastSuccess = ok;
        lastReturn = ret;
    }
}
