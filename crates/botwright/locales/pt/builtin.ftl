# Built-in strings of botwright, in Portuguese (pt).
# Placeholders are Bot Builder v3's: %s is the next argument (see the `builtin` module
# documentation for which message gets which). An application overrides any id per locale.

default_text = Não entendi. Por favor, tente novamente.
default_number = Não reconheci isso como um número. Por favor, digite um número.
default_confirm = Não entendi. Por favor, responda 'sim' ou 'não'.
default_choice = Não entendi. Por favor, escolha uma opção da lista.
default_time = Não reconheci o horário informado. Por favor, tente novamente, por exemplo "amanhã às 17h" ou "2026-12-24 18:00".
default_file = Não recebi nenhum arquivo. Por favor, tente novamente.
default_error = Ops. Algo deu errado e precisamos começar de novo.
list_or = {" "}ou{" "}
list_or_more = {" "}ou{" "}
confirm_yes = Sim
confirm_no = Não
yes_words = sim|s|claro|com certeza|tá|ta|beleza|ok|okay|verdadeiro|1
no_words = não|nao|n|de jeito nenhum|negativo|falso|2
number_words = zero|um/uma|dois/duas|três/tres|quatro|cinco|seis|sete|oito|nove|dez
ordinal_words = primeiro/primeira|segundo/segunda|terceiro/terceira|quarto/quarta|quinto/quinta|sexto/sexta|sétimo/sétima/setimo/setima|oitavo/oitava|nono/nona|décimo/décima/decimo/decima
number_min_error = O número informado é menor que o valor mínimo permitido de %s. Por favor, digite um número válido.
number_max_error = O número informado é maior que o valor máximo permitido de %s. Por favor, digite um número válido.
number_range_error = O número informado está fora do intervalo permitido, de %s a %s. Por favor, digite um número válido.
number_integer_error = O número informado não é um número inteiro. Por favor, digite um número inteiro.
text_min_length_error = O texto informado é mais curto que o comprimento mínimo permitido de %s. Por favor, tente novamente.
text_max_length_error = O texto informado é mais longo que o comprimento máximo permitido de %s. Por favor, tente novamente.
