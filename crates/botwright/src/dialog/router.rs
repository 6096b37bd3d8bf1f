//! Routing: which dialog or action gets the user's message.

use super::ops::{Call, call, invalid_stack};
use super::{Action, ActionKind};
use crate::session::Session;
use crate::stack::Op;

/// Where a message goes.
enum Route<'a> {
    Active,
    Action { action: &'a Action, depth: Option<usize> },
}

/// Compares candidates: the higher score wins; on a tie the active dialog, then the deepest
/// scoped action, then global actions (in registration order).
fn rank(route: &Route<'_>) -> f64 {
    match route {
        Route::Active => 3.0,
        Route::Action { depth: Some(d), .. } => 2.0 + (*d as f64 / 1_000_000.0),
        Route::Action { depth: None, .. } => 1.0,
    }
}

/// Routes the session's message: to the winning action, else the active dialog, else the
/// default dialog.
pub(crate) async fn route_message(session: &Session) {
    let bot = session.bot().clone();
    let stack = session.dialog_stack();
    if let Some(missing) = stack.iter().find(|id| bot.dialog(id).is_none()) {
        invalid_stack(session, missing);
    }
    let stack = session.dialog_stack();

    let mut best: Option<(f64, Route<'_>)> = None;
    fn consider<'a>(best: &mut Option<(f64, Route<'a>)>, score: f64, route: Route<'a>) {
        if score <= 0.0 {
            return;
        }
        let better = match best {
            None => true,
            Some((s, r)) => score > *s + f64::EPSILON || ((score - *s).abs() <= f64::EPSILON && rank(&route) > rank(r)),
        };
        if better {
            *best = Some((score, route));
        }
    }
    let actions = bot.actions();
    let message = session.message();
    let top = stack.last().and_then(|id| bot.dialog(id).map(|d| (id.clone(), d)));
    if let Some((_, dialog)) = &top {
        consider(&mut best, dialog.recognize(session).await.max(0.1), Route::Active);
    }
    for action in actions {
        match &action.scope {
            Some(scope) => {
                if let Some(depth) = stack.iter().rposition(|id| id == scope) {
                    consider(&mut best, action.matcher.score(message), Route::Action { action, depth: Some(depth) });
                }
            }
            None => consider(&mut best, action.matcher.score(message), Route::Action { action, depth: None }),
        }
    }

    match best {
        Some((_, Route::Active)) => {
            if let Some((id, dialog)) = top {
                call(session, &dialog, &id, Call::Reply).await;
            }
        }
        Some((_, Route::Action { action, depth })) => apply_action(session, action, depth),
        None => {
            let settings = bot.settings();
            session
                .lock()
                .ops
                .push_back(Op::Begin { id: settings.default_dialog.clone(), args: settings.default_args.clone() });
        }
    }
}

fn apply_action(session: &Session, action: &Action, depth: Option<usize>) {
    if let Some(text) = &action.message {
        session.send(text.clone());
    }
    let op = match &action.kind {
        ActionKind::Trigger { dialog, args } => Op::Reset { id: Some(dialog.clone()), args: args.clone() },
        ActionKind::BeginDialog { dialog, args } => Op::Interrupt { id: dialog.clone(), args: args.clone() },
        ActionKind::Cancel => Op::Cancel { index: depth.unwrap_or(0), replace: None },
        ActionKind::EndConversation => Op::EndConversation,
    };
    session.lock().ops.push_back(op);
}
