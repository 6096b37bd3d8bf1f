//! Number words of the languages the number recognizer knows (folded: lowercase, no accents).

use super::language::Language;

/// What a number word contributes to the number being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lexeme {
    /// A value below one hundred, added: "seven", "veintiuno", "soixante".
    Small(u32),
    /// A whole hundreds value, added: Spanish "doscientos", Portuguese "cento".
    Hundreds(u32),
    /// A multiplier: "hundred", "thousand", "million".
    Scale(u32),
    /// A word that joins parts of one number: "and", "y", "e", "et", "und".
    Connector,
}

/// A number word: its lexeme, and whether it doubles as an indefinite article ("un", "ein").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumberWord {
    pub(crate) lexeme: Lexeme,
    pub(crate) article: bool,
}

use Lexeme::{Connector, Hundreds, Scale, Small};

const fn w(lexeme: Lexeme) -> NumberWord {
    NumberWord { lexeme, article: false }
}

const fn article(lexeme: Lexeme) -> NumberWord {
    NumberWord { lexeme, article: true }
}

const ENGLISH: &[(&str, NumberWord)] = &[
    ("zero", w(Small(0))),
    ("one", w(Small(1))),
    ("two", w(Small(2))),
    ("three", w(Small(3))),
    ("four", w(Small(4))),
    ("five", w(Small(5))),
    ("six", w(Small(6))),
    ("seven", w(Small(7))),
    ("eight", w(Small(8))),
    ("nine", w(Small(9))),
    ("ten", w(Small(10))),
    ("eleven", w(Small(11))),
    ("twelve", w(Small(12))),
    ("thirteen", w(Small(13))),
    ("fourteen", w(Small(14))),
    ("fifteen", w(Small(15))),
    ("sixteen", w(Small(16))),
    ("seventeen", w(Small(17))),
    ("eighteen", w(Small(18))),
    ("nineteen", w(Small(19))),
    ("twenty", w(Small(20))),
    ("thirty", w(Small(30))),
    ("forty", w(Small(40))),
    ("fourty", w(Small(40))),
    ("fifty", w(Small(50))),
    ("sixty", w(Small(60))),
    ("seventy", w(Small(70))),
    ("eighty", w(Small(80))),
    ("ninety", w(Small(90))),
    ("hundred", w(Scale(100))),
    ("thousand", w(Scale(1_000))),
    ("million", w(Scale(1_000_000))),
    ("billion", w(Scale(1_000_000_000))),
    ("and", w(Connector)),
];

const SPANISH: &[(&str, NumberWord)] = &[
    ("cero", w(Small(0))),
    ("uno", w(Small(1))),
    ("un", article(Small(1))),
    ("una", article(Small(1))),
    ("dos", w(Small(2))),
    ("tres", w(Small(3))),
    ("cuatro", w(Small(4))),
    ("cinco", w(Small(5))),
    ("seis", w(Small(6))),
    ("siete", w(Small(7))),
    ("ocho", w(Small(8))),
    ("nueve", w(Small(9))),
    ("diez", w(Small(10))),
    ("once", w(Small(11))),
    ("doce", w(Small(12))),
    ("trece", w(Small(13))),
    ("catorce", w(Small(14))),
    ("quince", w(Small(15))),
    ("dieciseis", w(Small(16))),
    ("diecisiete", w(Small(17))),
    ("dieciocho", w(Small(18))),
    ("diecinueve", w(Small(19))),
    ("veinte", w(Small(20))),
    ("veintiuno", w(Small(21))),
    ("veintiun", w(Small(21))),
    ("veintiuna", w(Small(21))),
    ("veintidos", w(Small(22))),
    ("veintitres", w(Small(23))),
    ("veinticuatro", w(Small(24))),
    ("veinticinco", w(Small(25))),
    ("veintiseis", w(Small(26))),
    ("veintisiete", w(Small(27))),
    ("veintiocho", w(Small(28))),
    ("veintinueve", w(Small(29))),
    ("treinta", w(Small(30))),
    ("cuarenta", w(Small(40))),
    ("cincuenta", w(Small(50))),
    ("sesenta", w(Small(60))),
    ("setenta", w(Small(70))),
    ("ochenta", w(Small(80))),
    ("noventa", w(Small(90))),
    ("cien", w(Hundreds(100))),
    ("ciento", w(Hundreds(100))),
    ("doscientos", w(Hundreds(200))),
    ("doscientas", w(Hundreds(200))),
    ("trescientos", w(Hundreds(300))),
    ("trescientas", w(Hundreds(300))),
    ("cuatrocientos", w(Hundreds(400))),
    ("cuatrocientas", w(Hundreds(400))),
    ("quinientos", w(Hundreds(500))),
    ("quinientas", w(Hundreds(500))),
    ("seiscientos", w(Hundreds(600))),
    ("seiscientas", w(Hundreds(600))),
    ("setecientos", w(Hundreds(700))),
    ("setecientas", w(Hundreds(700))),
    ("ochocientos", w(Hundreds(800))),
    ("ochocientas", w(Hundreds(800))),
    ("novecientos", w(Hundreds(900))),
    ("novecientas", w(Hundreds(900))),
    ("mil", w(Scale(1_000))),
    ("millon", w(Scale(1_000_000))),
    ("millones", w(Scale(1_000_000))),
    ("y", w(Connector)),
];

const PORTUGUESE: &[(&str, NumberWord)] = &[
    ("zero", w(Small(0))),
    ("um", article(Small(1))),
    ("uma", article(Small(1))),
    ("dois", w(Small(2))),
    ("duas", w(Small(2))),
    ("tres", w(Small(3))),
    ("quatro", w(Small(4))),
    ("cinco", w(Small(5))),
    ("seis", w(Small(6))),
    ("sete", w(Small(7))),
    ("oito", w(Small(8))),
    ("nove", w(Small(9))),
    ("dez", w(Small(10))),
    ("onze", w(Small(11))),
    ("doze", w(Small(12))),
    ("treze", w(Small(13))),
    ("catorze", w(Small(14))),
    ("quatorze", w(Small(14))),
    ("quinze", w(Small(15))),
    ("dezesseis", w(Small(16))),
    ("dezasseis", w(Small(16))),
    ("dezessete", w(Small(17))),
    ("dezassete", w(Small(17))),
    ("dezoito", w(Small(18))),
    ("dezenove", w(Small(19))),
    ("dezanove", w(Small(19))),
    ("vinte", w(Small(20))),
    ("trinta", w(Small(30))),
    ("quarenta", w(Small(40))),
    ("cinquenta", w(Small(50))),
    ("sessenta", w(Small(60))),
    ("setenta", w(Small(70))),
    ("oitenta", w(Small(80))),
    ("noventa", w(Small(90))),
    ("cem", w(Hundreds(100))),
    ("cento", w(Hundreds(100))),
    ("duzentos", w(Hundreds(200))),
    ("duzentas", w(Hundreds(200))),
    ("trezentos", w(Hundreds(300))),
    ("trezentas", w(Hundreds(300))),
    ("quatrocentos", w(Hundreds(400))),
    ("quatrocentas", w(Hundreds(400))),
    ("quinhentos", w(Hundreds(500))),
    ("quinhentas", w(Hundreds(500))),
    ("seiscentos", w(Hundreds(600))),
    ("seiscentas", w(Hundreds(600))),
    ("setecentos", w(Hundreds(700))),
    ("setecentas", w(Hundreds(700))),
    ("oitocentos", w(Hundreds(800))),
    ("oitocentas", w(Hundreds(800))),
    ("novecentos", w(Hundreds(900))),
    ("novecentas", w(Hundreds(900))),
    ("mil", w(Scale(1_000))),
    ("milhao", w(Scale(1_000_000))),
    ("milhoes", w(Scale(1_000_000))),
    ("e", w(Connector)),
];

const FRENCH: &[(&str, NumberWord)] = &[
    ("zero", w(Small(0))),
    ("un", article(Small(1))),
    ("une", article(Small(1))),
    ("deux", w(Small(2))),
    ("trois", w(Small(3))),
    ("quatre", w(Small(4))),
    ("cinq", w(Small(5))),
    ("six", w(Small(6))),
    ("sept", w(Small(7))),
    ("huit", w(Small(8))),
    ("neuf", w(Small(9))),
    ("dix", w(Small(10))),
    ("onze", w(Small(11))),
    ("douze", w(Small(12))),
    ("treize", w(Small(13))),
    ("quatorze", w(Small(14))),
    ("quinze", w(Small(15))),
    ("seize", w(Small(16))),
    ("vingt", w(Small(20))),
    ("vingts", w(Small(20))),
    ("trente", w(Small(30))),
    ("quarante", w(Small(40))),
    ("cinquante", w(Small(50))),
    ("soixante", w(Small(60))),
    ("septante", w(Small(70))),
    ("huitante", w(Small(80))),
    ("octante", w(Small(80))),
    ("nonante", w(Small(90))),
    ("cent", w(Scale(100))),
    ("cents", w(Scale(100))),
    ("mille", w(Scale(1_000))),
    ("million", w(Scale(1_000_000))),
    ("millions", w(Scale(1_000_000))),
    ("et", w(Connector)),
];

/// German number morphemes; words are split into these ("einundzwanzig" = ein + und + zwanzig).
const GERMAN: &[(&str, NumberWord)] = &[
    ("null", w(Small(0))),
    ("eins", w(Small(1))),
    ("ein", article(Small(1))),
    ("eine", article(Small(1))),
    ("zwei", w(Small(2))),
    ("zwo", w(Small(2))),
    ("drei", w(Small(3))),
    ("vier", w(Small(4))),
    ("funf", w(Small(5))),
    ("fuenf", w(Small(5))),
    ("sechs", w(Small(6))),
    ("sieben", w(Small(7))),
    ("acht", w(Small(8))),
    ("neun", w(Small(9))),
    ("zehn", w(Small(10))),
    ("elf", w(Small(11))),
    ("zwolf", w(Small(12))),
    ("zwoelf", w(Small(12))),
    ("dreizehn", w(Small(13))),
    ("vierzehn", w(Small(14))),
    ("funfzehn", w(Small(15))),
    ("fuenfzehn", w(Small(15))),
    ("sechzehn", w(Small(16))),
    ("siebzehn", w(Small(17))),
    ("achtzehn", w(Small(18))),
    ("neunzehn", w(Small(19))),
    ("zwanzig", w(Small(20))),
    ("dreissig", w(Small(30))),
    ("vierzig", w(Small(40))),
    ("funfzig", w(Small(50))),
    ("fuenfzig", w(Small(50))),
    ("sechzig", w(Small(60))),
    ("siebzig", w(Small(70))),
    ("achtzig", w(Small(80))),
    ("neunzig", w(Small(90))),
    ("hundert", w(Scale(100))),
    ("tausend", w(Scale(1_000))),
    ("million", w(Scale(1_000_000))),
    ("millionen", w(Scale(1_000_000))),
    ("und", w(Connector)),
];

fn table(language: Language) -> &'static [(&'static str, NumberWord)] {
    match language {
        Language::English => ENGLISH,
        Language::Spanish => SPANISH,
        Language::German => GERMAN,
        Language::French => FRENCH,
        Language::Portuguese => PORTUGUESE,
    }
}

/// The number word `word` (folded) stands for, as a whole word.
pub(crate) fn lookup(word: &str, language: Language) -> Option<NumberWord> {
    table(language).iter().find(|(text, _)| *text == word).map(|(_, number)| *number)
}

/// The longest German morpheme `word` starts with, and its length in bytes.
fn german_prefix(word: &str) -> Option<(usize, NumberWord)> {
    GERMAN
        .iter()
        .filter(|(text, _)| word.starts_with(text))
        .max_by_key(|(text, _)| text.len())
        .map(|(text, number)| (text.len(), *number))
}

/// The morphemes of a German number word, if it is made of them entirely
/// ("zweihundertdreiundvierzig"); `None` for any other word ("achtung").
pub(crate) fn german_morphemes(word: &str) -> Option<GermanMorphemes<'_>> {
    let mut rest = word;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let (len, _) = german_prefix(rest)?;
        rest = &rest[len..];
    }
    Some(GermanMorphemes { rest: word, whole: true })
}

/// Iterator over the morphemes of a German number word; only a whole-word "ein"/"eine" keeps
/// its article flag.
#[derive(Debug, Clone)]
pub(crate) struct GermanMorphemes<'a> {
    rest: &'a str,
    whole: bool,
}

impl Iterator for GermanMorphemes<'_> {
    type Item = NumberWord;

    fn next(&mut self) -> Option<NumberWord> {
        let (len, mut number) = german_prefix(self.rest)?;
        let whole = self.whole && len == self.rest.len();
        self.whole = false;
        self.rest = &self.rest[len..];
        number.article &= whole;
        Some(number)
    }
}

/// Whether `word` (folded) is a number word that doubles as an indefinite article ("un", "ein").
pub(crate) fn is_article(word: &str, language: Language) -> bool {
    lookup(word, language).is_some_and(|number| number.article)
}

/// Whether `word` (folded) is a number word of `language` (connectors excluded).
pub(crate) fn is_number_word(word: &str, language: Language) -> bool {
    if language == Language::German {
        return german_morphemes(word).is_some_and(|mut parts| parts.any(|part| part.lexeme != Connector));
    }
    lookup(word, language).is_some_and(|number| number.lexeme != Connector)
}

#[cfg(test)]
mod tests {
    use super::{Lexeme, german_morphemes, is_number_word, lookup};
    use crate::recognize::language::Language;

    #[test]
    fn german_words_split_into_morphemes() {
        let table: [(&str, Option<Vec<Lexeme>>); 6] = [
            ("einundzwanzig", Some(vec![Lexeme::Small(1), Lexeme::Connector, Lexeme::Small(20)])),
            ("achtzehn", Some(vec![Lexeme::Small(18)])),
            ("zweihundert", Some(vec![Lexeme::Small(2), Lexeme::Scale(100)])),
            ("sechzig", Some(vec![Lexeme::Small(60)])),
            ("achtung", None),
            ("", None),
        ];
        for (word, expected) in table {
            let got = german_morphemes(word).map(|parts| parts.map(|part| part.lexeme).collect::<Vec<_>>());
            assert_eq!(got, expected, "word {word:?}");
        }
    }

    #[test]
    fn article_flag_only_for_whole_words() {
        assert!(german_morphemes("ein").and_then(|mut parts| parts.next()).is_some_and(|part| part.article));
        assert!(!german_morphemes("einhundert").and_then(|mut parts| parts.next()).is_some_and(|part| part.article));
        assert!(lookup("un", Language::Spanish).is_some_and(|word| word.article));
        assert!(!lookup("uno", Language::Spanish).is_some_and(|word| word.article));
    }

    #[test]
    fn number_words_exclude_connectors() {
        assert!(is_number_word("two", Language::English));
        assert!(!is_number_word("and", Language::English));
        assert!(is_number_word("dreissig", Language::German));
        assert!(!is_number_word("und", Language::German));
        assert!(!is_number_word("zwei", Language::English));
    }
}
