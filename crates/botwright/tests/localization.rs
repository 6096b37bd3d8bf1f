//! Transcript tests of localization: the user's preferred locale applies to the bot's messages,
//! the built-in prompts and their retries, and proactive messages.

use botwright::locale::Localizer;
use botwright::testing::TestFlow;
use botwright::text::Text;
use botwright::{Bot, Message, Prompt, Waterfall};

fn localizer() -> Localizer {
    Localizer::builder()
        .default_locale("en")
        .message("en", "ask_sure", "Are you sure?")
        .message("es", "ask_sure", "¿Estás seguro?")
        .message("en", "ask_count", "How many?")
        .message("es", "ask_count", "¿Cuántos?")
        .message("en", "shipped", "Your order %s has shipped.")
        .message("es", "shipped", "Tu pedido %s ha sido enviado.")
        .message("de", "shipped", "Deine Bestellung %s wurde versandt.")
        .message("pt", "welcome", "Bem-vindo!")
        .message("en", "welcome", "Welcome!")
        .build()
        .expect("valid tables")
}

/// `locale xx` sets the preference; then a confirm prompt and a number prompt.
fn bot() -> botwright::bot::BotBuilder {
    Bot::builder().localizer(localizer()).dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                if let Some(locale) = s.message().text().strip_prefix("locale ") {
                    s.set_preferred_locale(locale.to_owned());
                }
                s.prompt(Prompt::confirm(Text::localized("ask_sure")));
                Ok(())
            })
            .step(|s, r| async move {
                s.send(format!("confirmed: {:?}", r.confirmed()));
                s.prompt(Prompt::number(Text::localized("ask_count")));
                Ok(())
            })
            .step(|s, r| async move {
                s.end_dialog_with_message(format!("count: {}", r.number().unwrap_or_default()));
                Ok(())
            }),
    )
}

#[tokio::test]
async fn a_user_who_chose_spanish_gets_spanish_prompts_and_retries() {
    let mut flow = TestFlow::new(bot());
    flow.user_says("locale es").await;
    flow.bot_says_with_actions("¿Estás seguro?", &["Sí", "No"]).await;
    flow.user_says("sí").await;
    flow.bot_says("confirmed: Some(true)").await;
    flow.bot_says("¿Cuántos?").await;
    flow.user_says("muchos").await;
    flow.bot_says("No he reconocido eso como un número. Por favor, escribe un número.").await;
    flow.user_says("veintiuno").await;
    flow.bot_says("count: 21").await;
    // The preference persists across turns and conversations.
    flow.in_conversation("another");
    flow.user_says("hola").await;
    flow.bot_says_with_actions("¿Estás seguro?", &["Sí", "No"]).await;
}

#[tokio::test]
async fn the_channel_locale_applies_without_a_preference_and_pt_br_gets_pt() {
    let bot = Bot::builder().localizer(localizer()).dialog(
        "/",
        Waterfall::new()
            .step(|s, _| async move {
                s.send(Text::localized("welcome"));
                s.prompt(Prompt::text("?"));
                Ok(())
            })
            .step(|s, _| async move {
                s.end_dialog();
                Ok(())
            }),
    );
    let mut flow = TestFlow::new(bot);
    flow.with_locale(Some("pt-BR"));
    flow.user_says("oi").await;
    flow.bot_says("Bem-vindo!").await;
    flow.bot_says("?").await;
    flow.user_says("   ").await;
    flow.bot_says("Não entendi. Por favor, tente novamente.").await;
}

#[tokio::test]
async fn an_unknown_id_falls_back_to_the_id() {
    let bot = Bot::builder().localizer(localizer()).dialog(
        "/",
        Waterfall::new().step(|s, _| async move {
            s.set_preferred_locale("es");
            s.end_dialog_with_message(Message::localized("not-a-message-id"));
            Ok(())
        }),
    );
    let mut flow = TestFlow::new(bot);
    flow.user_says("hi").await;
    flow.bot_says("not-a-message-id").await;
}

#[tokio::test]
async fn a_localized_proactive_send_speaks_each_users_language_and_disturbs_no_one() {
    let mut flow = TestFlow::new(bot());
    let mut addresses = Vec::new();
    for (user, locale) in [("ana", "en"), ("bea", "es"), ("carl", "de")] {
        flow.as_user(user).in_conversation(&format!("c-{user}"));
        flow.user_says(&format!("locale {locale}")).await;
        flow.next_message().await; // the confirm prompt: each user is now mid-waterfall
        addresses.push(flow.address());
    }
    for address in &addresses {
        let receipt = flow.bot().send(Message::localized("shipped").arg("A-17").address(address.clone())).await;
        assert!(receipt.is_ok(), "{receipt:?}");
    }
    let mut texts = Vec::new();
    for _ in 0..3 {
        let (address, activity) = flow.next_reply_with_address().await;
        texts.push((address.user.id, activity.text().to_owned()));
    }
    texts.sort();
    assert_eq!(
        texts,
        [
            ("ana".to_owned(), "Your order A-17 has shipped.".to_owned()),
            ("bea".to_owned(), "Tu pedido A-17 ha sido enviado.".to_owned()),
            ("carl".to_owned(), "Deine Bestellung A-17 wurde versandt.".to_owned()),
        ]
    );
    // Each user's waterfall goes on where it was: the answer to the pending confirm prompt.
    for (user, yes) in [("ana", "yes"), ("bea", "sí"), ("carl", "ja")] {
        flow.as_user(user).in_conversation(&format!("c-{user}"));
        flow.user_says(yes).await;
        flow.bot_says("confirmed: Some(true)").await;
        flow.next_message().await;
    }
}
