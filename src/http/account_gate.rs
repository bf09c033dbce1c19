//! One write per account at a time in this process.
//!
//! The account row lock in the database is what makes an account's writes
//! correct, across every instance. This gate only keeps this process from
//! sending a crowd to wait on that lock: without it, 32 invites into one firm
//! would hold every pooled connection while they queue in PostgreSQL (starving
//! other firms' requests), and each commit would wake them all to race for the
//! row again. Waiting here costs nothing and keeps connections for others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::ids::AccountId;
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct AccountGates {
    gates: Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while the account's write runs; dropping it lets the next one in.
pub struct AccountTurn {
    turn: Option<OwnedMutexGuard<()>>,
    gates: Arc<AccountGates>,
    account_id: AccountId,
}

impl AccountGates {
    /// Waits for this account's turn.
    pub async fn enter(self: &Arc<Self>, account_id: AccountId) -> AccountTurn {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            gates.entry(account_id).or_default().clone()
        };
        AccountTurn {
            turn: Some(gate.lock_owned().await),
            gates: self.clone(),
            account_id,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.gates.lock().map(|g| g.len()).unwrap_or(0)
    }
}

impl Drop for AccountTurn {
    fn drop(&mut self) {
        // Forget the gate once nobody holds or awaits it, so the map stays as
        // small as the number of accounts being written to right now.
        self.turn.take();
        let mut gates = self.gates.gates.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map's own handle left: nobody holds the gate or waits for it
        // (a waiter holds a handle from before it started waiting).
        if gates
            .get(&self.account_id)
            .is_some_and(|gate| Arc::strong_count(gate) == 1)
        {
            gates.remove(&self.account_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_account_and_the_map_empties_afterwards() {
        let gates = Arc::new(AccountGates::default());
        let first = gates.enter(AccountId::new(1)).await;
        let other_account = gates.enter(AccountId::new(2)).await;
        let waiting = {
            let gates = gates.clone();
            tokio::spawn(async move { gates.enter(AccountId::new(1)).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a second write of account 1 waits");
        drop(first);
        let second = waiting.await.expect("the second turn");
        drop(second);
        drop(other_account);
        assert_eq!(gates.len(), 0);
    }
}
