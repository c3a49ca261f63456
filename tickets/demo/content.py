"""Bilingual demo content: the kinds of mail a social-video platform's support team gets every day."""

PT_NAMES = [
    "João Pedro Oliveira", "Maria Eduarda Santos", "Lucas Ferreira", "Ana Clara Rodrigues", "Gabriel Almeida",
    "Júlia Carvalho", "Matheus Ribeiro", "Beatriz Gonçalves", "Rafael Araújo", "Larissa Mendes",
    "Thiago Barbosa", "Camila Nogueira", "Felipe Castro", "Letícia Moura", "Guilherme Teixeira",
    "Isabela Cardoso", "Vinícius Correia", "Mariana Pinto", "Leonardo Dias", "Fernanda Lopes",
]  # fmt: skip
EN_NAMES = [
    "Emily Carter", "Jacob Miller", "Olivia Johnson", "Ethan Davis", "Sophia Martinez", "Noah Wilson",
    "Ava Thompson", "Liam Anderson", "Mia Robinson", "Mason Clark", "Harper Lewis", "Logan Walker",
    "Chloe Hall", "Aiden Young", "Grace King", "Lucas Wright", "Zoe Scott", "Owen Green",
]  # fmt: skip

# (tags, subject, first message, follow-up from the user, associate's reply)
PT_SCENARIOS = [
    (["conta-invadida"], "Minha conta foi invadida",
     "Olá, hoje de manhã recebi um e-mail dizendo que a senha da minha conta foi alterada, mas não fui eu. "
     "Agora não consigo entrar e estão postando vídeos estranhos no meu perfil. Meu usuário é @{handle}. "
     "Por favor, me ajudem a recuperar a conta!",
     "Consegui entrar pelo link que vocês mandaram, mas o e-mail de recuperação ainda é de outra pessoa.",
     "Oi, {first}! Sinto muito pelo susto. Já bloqueamos temporariamente o acesso ao perfil @{handle} e "
     "enviamos um link seguro de recuperação para o seu e-mail. Depois de entrar, troque a senha e ative a "
     "verificação em duas etapas."),
    (["recuperacao-de-conta"], "Não recebo o código de verificação",
     "Estou tentando entrar no aplicativo, mas o código de verificação por SMS nunca chega. Já tentei umas "
     "dez vezes desde ontem. Meu número continua o mesmo. O que eu faço?",
     "Tentei de novo agora e continua sem chegar nada.",
     "Oi, {first}! Obrigado por avisar. Enviamos o código por e-mail como alternativa; ele vale por 10 "
     "minutos. Se não aparecer, confira a caixa de spam."),
    (["apelacao-idade"], "Minha conta foi banida por idade, mas tenho 19 anos",
     "Minha conta foi suspensa dizendo que eu tenho menos de 13 anos, mas eu tenho 19. Posso mandar um "
     "documento para provar. Perdi todos os meus vídeos e seguidores, isso é muito injusto.",
     "Segue em anexo a foto do meu RG, com os dados sensíveis cobertos.",
     "Oi, {first}! Entendemos a frustração. Para revisar a suspensão, precisamos confirmar sua idade: "
     "responda a este e-mail com uma foto de um documento com a data de nascimento visível."),
    (["remocao-de-conteudo"], "Meu vídeo foi removido sem motivo",
     "Postei um vídeo de receita ontem e hoje ele foi removido por 'violar as diretrizes'. Não tem nada de "
     "errado nele, é só uma receita de bolo de cenoura. Quero que revisem, por favor.",
     "Ainda não tive resposta sobre o vídeo, ele continua fora do ar.",
     "Oi, {first}! Revisamos o vídeo e ele foi removido por engano pelo nosso sistema automático. Ele já "
     "está de volta no seu perfil. Desculpe o transtorno!"),
    (["assedio"], "Estão me perseguindo nos comentários",
     "Tem um perfil que comenta em todos os meus vídeos me xingando e fazendo ameaças. Já bloqueei, mas ele "
     "cria contas novas. Estou com medo de postar. O que vocês podem fazer?",
     "Ele criou outra conta hoje e voltou a comentar.",
     "Oi, {first}. Sentimos muito que você esteja passando por isso. Encaminhamos as contas para a equipe "
     "de Confiança e Segurança, que já removeu os comentários."),
    (["pagamento"], "Não recebi o pagamento do fundo de criadores",
     "Sou criador de conteúdo e o pagamento de outubro do fundo de criadores não caiu na minha conta. "
     "No painel aparece como 'pago', mas o banco diz que não recebeu nada. Podem verificar?",
     "O banco confirmou que não existe nenhuma transferência pendente.",
     "Oi, {first}! Verificamos e o pagamento foi devolvido pelo banco por divergência no CPF cadastrado. "
     "Atualize os dados bancários no painel e faremos um novo envio."),
    (["bug"], "O aplicativo fecha quando tento postar",
     "Toda vez que eu tento postar um vídeo com mais de 1 minuto o aplicativo fecha sozinho. Uso um "
     "Samsung Galaxy A54 com Android 14, e o app está atualizado. Já reinstalei e não resolveu.",
     "Aconteceu de novo hoje com um vídeo de 2 minutos.",
     "Oi, {first}! Obrigado pelos detalhes. Nossa equipe de Engenharia identificou o problema e a correção "
     "sai na próxima atualização. Enquanto isso, tente gravar pelo próprio aplicativo."),
    (["nome-de-usuario"], "Quero mudar meu nome de usuário",
     "Oi! Quero trocar meu nome de usuário, mas o aplicativo diz que só posso trocar daqui a 30 dias. "
     "Eu troquei por engano ontem. Tem como voltar para o nome antigo?",
     "",
     "Oi, {first}! Liberamos a troca para você: já pode escolher o nome antigo nas configurações do perfil."),
]  # fmt: skip

EN_SCENARIOS = [
    (["hacked-account"], "My account was hacked",
     "Hi, someone logged into my account last night and changed my email and password. They are posting "
     "spam videos on my profile @{handle}. I have been using this account for four years. Please help me "
     "get it back.",
     "I got the reset link, but the recovery phone number is still not mine.",
     "Hi {first}, I'm so sorry this happened. We've locked @{handle} to stop the spam and sent a secure "
     "recovery link to your original email address. Once you're in, please turn on two-step verification."),
    (["account-recovery"], "Password reset email never arrives",
     "I requested a password reset five times today and the email never arrives. I checked spam and "
     "promotions. My account email has not changed. What else can I do?",
     "Still nothing, I also tried from my laptop.",
     "Hi {first}, thanks for your patience. Your mail provider was rejecting our messages; we've sent the "
     "reset link again from a different server and it should be in your inbox now."),
    (["age-appeal"], "Banned for being under 13 but I'm 21",
     "My account got banned saying I'm under 13. I'm 21 years old and can prove it with my driver's "
     "license. I'd really like my account back, it has all my videos.",
     "Attached is my ID with the number covered.",
     "Hi {first}, thanks for reaching out. To review the ban we need to confirm your age: reply with a "
     "photo of an ID that shows your date of birth, and cover any other details you like."),
    (["content-removal-appeal"], "Appeal: my video was removed by mistake",
     "My dance video was removed for 'dangerous acts' but it's just a choreography in my living room. "
     "Nothing dangerous at all. Can someone look at it again?",
     "It's been three days and the video is still down.",
     "Hi {first}, we took another look and you're right: the video was removed in error. It's back up, "
     "and the strike has been taken off your account."),
    (["harassment"], "Someone keeps harassing me",
     "A user keeps making new accounts to leave hateful comments on every video I post and sends me "
     "messages telling me to quit. Blocking doesn't help because they come back with a new account.",
     "They are back again with a new username today.",
     "Hi {first}, I'm really sorry you're dealing with this. We've escalated the accounts to our Trust & "
     "Safety team, who removed them and the comments."),
    (["payment"], "Creator fund payout missing",
     "My creator fund payout for October shows as paid in the dashboard but it never reached my PayPal. "
     "It's been two weeks. Can you check what happened?",
     "PayPal says there is no incoming transfer at all.",
     "Hi {first}, we looked into it: the payout was returned because the PayPal email didn't match. Please "
     "update it in your payout settings and we'll resend it."),
    (["bug-report"], "App crashes when I upload",
     "The app crashes every time I try to upload a video longer than 60 seconds. iPhone 13, iOS 18, "
     "latest app version. I've reinstalled twice. Shorter videos upload fine.",
     "It crashed again with a 90-second clip.",
     "Hi {first}, thank you for the detail. Engineering found the bug and the fix ships in the next "
     "release. Until then, recording inside the app avoids it."),
]  # fmt: skip
