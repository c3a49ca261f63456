"""Demo SOPs and macros: what a social-video platform's support team follows every day, in pt-BR and en.

Each SOP: slug, internal title, category, queue slugs, tags, and a text per language as
(title, markdown body, checklist with `!` marking required steps). Tags match tickets/demo/content.py.
"""

FRONT_LINE = ["suporte", "support"]

SOPS = [
    {
        "slug": "account-recovery",
        "title": "Account recovery",
        "category": "account",
        "queues": FRONT_LINE,
        "tags": ["recuperacao-de-conta", "account-recovery"],
        "pt": (
            "Recuperação de conta",
            "Use quando a pessoa **não consegue entrar** (senha esquecida, código que não chega, e-mail antigo).\n\n"
            "1. Confirme que o e-mail do chamado é o mesmo cadastrado na conta.\n"
            "2. Veja no painel de contas se há bloqueio por excesso de tentativas (espera de 30 minutos).\n"
            "3. Se o SMS não chega, ofereça o código por e-mail (vale 10 minutos).\n"
            "4. Nunca altere o e-mail ou telefone da conta a pedido do chamado: isso só é feito pelo fluxo "
            "seguro de recuperação.\n\n"
            "> Se houver sinais de invasão (e-mail trocado, posts que a pessoa não fez), siga o SOP "
            "**Conta invadida**.",
            "! Confirmar que o remetente é o e-mail cadastrado\n"
            "Verificar bloqueio por tentativas no painel\n"
            "! Enviar o link ou código pelo fluxo seguro\n"
            "Orientar sobre verificação em duas etapas",
        ),
        "en": (
            "Account recovery",
            "Use when someone **cannot sign in** (forgotten password, code not arriving, old email).\n\n"
            "1. Check that the ticket's email is the one registered on the account.\n"
            "2. Look in the accounts console for a too-many-attempts lock (30-minute wait).\n"
            "3. If the SMS never arrives, offer the code by email (valid for 10 minutes).\n"
            "4. Never change the account's email or phone because a ticket asks: only the secure recovery "
            "flow does that.\n\n"
            "> If there are signs of a takeover (changed email, posts they did not make), follow the "
            "**Hacked account** SOP.",
            "! Confirm the sender is the registered email\n"
            "Check the console for an attempts lock\n"
            "! Send the link or code through the secure flow\n"
            "Recommend two-step verification",
        ),
    },
    {
        "slug": "hacked-account",
        "title": "Hacked account",
        "category": "account",
        "queues": [*FRONT_LINE, "account-security"],
        "tags": ["conta-invadida", "hacked-account"],
        "pt": (
            "Conta invadida",
            "A prioridade é **parar o dano**: bloqueie a conta antes de qualquer outra coisa.\n\n"
            "## Passos\n"
            "1. Bloqueie temporariamente o perfil no painel (ação *Bloquear por segurança*).\n"
            "2. Confirme a identidade: e-mail original da conta, data aproximada de criação e último "
            "dispositivo usado.\n"
            "3. Envie o link seguro de recuperação **para o e-mail original**, nunca para um novo.\n"
            "4. Remova os vídeos postados pelo invasor e registre os IDs numa nota interna.\n"
            "5. Se a pessoa não conseguir provar a titularidade, escale para **Account Security**.\n\n"
            "Não peça senha, código ou foto de documento por e-mail.",
            "! Bloquear o perfil por segurança\n"
            "! Confirmar a identidade com o e-mail original\n"
            "! Enviar o link seguro para o e-mail original\n"
            "Remover o conteúdo postado pelo invasor\n"
            "Registrar os IDs removidos em nota interna",
        ),
        "en": (
            "Hacked account",
            "The priority is to **stop the damage**: lock the account before anything else.\n\n"
            "## Steps\n"
            "1. Temporarily lock the profile in the console (*Security lock* action).\n"
            "2. Verify identity: the account's original email, rough creation date and last device used.\n"
            "3. Send the secure recovery link **to the original email**, never to a new one.\n"
            "4. Remove the videos the intruder posted and list their IDs in an internal note.\n"
            "5. If the person cannot prove ownership, escalate to **Account Security**.\n\n"
            "Never ask for a password, a code or an ID photo by email.",
            "! Security-lock the profile\n"
            "! Verify identity with the original email\n"
            "! Send the secure link to the original email\n"
            "Remove content posted by the intruder\n"
            "List the removed IDs in an internal note",
        ),
    },
    {
        "slug": "age-appeal",
        "title": "Age appeal",
        "category": "account",
        "queues": FRONT_LINE,
        "tags": ["apelacao-idade", "age-appeal"],
        "pt": (
            "Apelação de idade",
            "Contas suspensas por suspeita de idade abaixo de 13 anos.\n\n"
            "- Peça **uma** foto de documento com a data de nascimento visível; o resto pode ser coberto.\n"
            "- Documentos chegam como anexo sensível: não os copie para notas nem para outros chamados.\n"
            "- Se a data confirma 13 anos ou mais, reative pelo painel e marque o chamado como resolvido.\n"
            "- Se confirma menos de 13 anos, a suspensão é mantida; use a macro *Idade — suspensão mantida*.\n"
            "- Apague o anexo depois da decisão (retenção de dados).",
            "! Pedir documento com data de nascimento visível\n"
            "! Conferir a data no documento\n"
            "Reativar ou manter a suspensão no painel\n"
            "! Apagar o documento após a decisão",
        ),
        "en": (
            "Age appeal",
            "Accounts suspended on suspicion of being under 13.\n\n"
            "- Ask for **one** photo of an ID with the date of birth visible; everything else may be covered.\n"
            "- IDs arrive as sensitive attachments: never copy them into notes or other tickets.\n"
            "- If the date shows 13 or older, reinstate in the console and solve the ticket.\n"
            "- If it shows under 13, the suspension stands; use the *Age — suspension upheld* macro.\n"
            "- Delete the attachment once decided (data retention).",
            "! Ask for an ID with the date of birth visible\n"
            "! Check the date on the ID\n"
            "Reinstate or uphold in the console\n"
            "! Delete the ID after deciding",
        ),
    },
    {
        "slug": "content-removal-appeal",
        "title": "Content removal appeal",
        "category": "content",
        "queues": FRONT_LINE,
        "tags": ["remocao-de-conteudo", "content-removal-appeal"],
        "pt": (
            "Apelação de remoção de conteúdo",
            "A pessoa acha que um vídeo foi removido por engano.\n\n"
            "1. Abra o vídeo no painel de moderação e leia o motivo registrado.\n"
            "2. Se a remoção foi automática e o vídeo claramente não viola as diretrizes, restaure.\n"
            "3. Se houver dúvida (violência, nudez, desinformação), **não decida sozinho**: escale para "
            "Trust & Safety com o link do vídeo.\n"
            "4. Responda sempre dizendo qual diretriz foi aplicada, com o link público.",
            "! Ler o motivo da remoção no painel\n"
            "Restaurar quando a remoção automática foi um erro claro\n"
            "Escalar para Trust & Safety em caso de dúvida\n"
            "! Informar a diretriz aplicada na resposta",
        ),
        "en": (
            "Content removal appeal",
            "Someone believes a video was removed by mistake.\n\n"
            "1. Open the video in the moderation console and read the recorded reason.\n"
            "2. If the removal was automatic and the video clearly follows the guidelines, restore it.\n"
            "3. When in doubt (violence, nudity, misinformation), **do not decide alone**: escalate to "
            "Trust & Safety with the video link.\n"
            "4. Always answer with the guideline that was applied and its public link.",
            "! Read the removal reason in the console\n"
            "Restore when the automatic removal was a clear error\n"
            "Escalate to Trust & Safety when in doubt\n"
            "! Name the guideline applied in the reply",
        ),
    },
    {
        "slug": "harassment-report",
        "title": "Harassment report",
        "category": "safety",
        "queues": [*FRONT_LINE, "trust-safety"],
        "tags": ["assedio", "harassment"],
        "pt": (
            "Denúncia de assédio",
            "Acolha primeiro, resolva depois. A pessoa pode estar com medo.\n\n"
            "- Peça os **links** dos comentários ou perfis (não prints, que não podemos verificar).\n"
            "- Remova os comentários que violam as diretrizes e aplique o aviso ao perfil agressor.\n"
            "- Se há **ameaça de violência** ou menção a endereço, escola ou telefone: prioridade urgente e "
            "escale para Trust & Safety na hora.\n"
            "- Explique como ativar o filtro de comentários e o bloqueio de contas novas.\n"
            "- Nunca conte à pessoa denunciante que providência foi tomada contra a outra conta.",
            "! Pedir os links dos comentários ou perfis\n"
            "! Avaliar se há ameaça de violência ou dados pessoais expostos\n"
            "Remover os comentários que violam as diretrizes\n"
            "Explicar o filtro de comentários",
        ),
        "en": (
            "Harassment report",
            "Support first, solve second. The person may be scared.\n\n"
            "- Ask for the **links** to the comments or profiles (not screenshots, which we cannot verify).\n"
            "- Remove the comments that break the guidelines and warn the offending profile.\n"
            "- If there is a **threat of violence** or a home address, school or phone number: urgent priority "
            "and escalate to Trust & Safety right away.\n"
            "- Explain the comment filter and how to block new accounts.\n"
            "- Never tell the reporter what action was taken against the other account.",
            "! Ask for links to the comments or profiles\n"
            "! Assess threats of violence or exposed personal data\n"
            "Remove the comments that break the guidelines\n"
            "Explain the comment filter",
        ),
    },
    {
        "slug": "creator-payment-issue",
        "title": "Creator payment issue",
        "category": "payments",
        "queues": FRONT_LINE,
        "tags": ["pagamento", "payment"],
        "pt": (
            "Pagamento do fundo de criadores",
            "Pagamentos saem no dia 15 de cada mês.\n\n"
            "| Situação no painel | O que fazer |\n"
            "| --- | --- |\n"
            "| Pendente | Antes do dia 15: peça para aguardar. |\n"
            "| Pago | Peça o comprovante do banco; se não houver crédito em 5 dias úteis, abra investigação. |\n"
            "| Devolvido | Quase sempre CPF ou conta divergente: peça para atualizar os dados bancários. |\n\n"
            "Nunca peça senha do banco nem número de cartão.",
            "! Conferir a situação do pagamento no painel\n"
            "Conferir o CPF cadastrado\n"
            "Abrir investigação financeira quando pago e não creditado",
        ),
        "en": (
            "Creator fund payout",
            "Payouts go out on the 15th of each month.\n\n"
            "| Status in the console | What to do |\n"
            "| --- | --- |\n"
            "| Pending | Before the 15th: ask them to wait. |\n"
            "| Paid | Ask for the bank statement; if not credited in 5 business days, open an investigation. |\n"
            "| Returned | Usually a tax ID or account mismatch: ask them to update their bank details. |\n\n"
            "Never ask for a bank password or card number.",
            "! Check the payout status in the console\n"
            "Check the registered tax ID\n"
            "Open a finance investigation when paid but not credited",
        ),
    },
    {
        "slug": "bug-report",
        "title": "Bug report",
        "category": "technical",
        "queues": [*FRONT_LINE, "engineering"],
        "tags": ["bug", "bug-report"],
        "pt": (
            "Relato de bug",
            "Um bom relato economiza dias da Engenharia.\n\n"
            "Colete: modelo do aparelho, sistema e versão, versão do app, passo a passo, e se acontece "
            "sempre. Procure no quadro de incidentes conhecidos antes de escalar; se já existe, vincule o "
            "chamado e use a macro *Bug conhecido*.",
            "! Coletar aparelho, sistema e versão do app\n"
            "! Coletar o passo a passo para reproduzir\n"
            "Procurar no quadro de incidentes conhecidos\n"
            "Escalar para Engenharia se for novo",
        ),
        "en": (
            "Bug report",
            "A good report saves Engineering days.\n\n"
            "Collect: device model, OS and version, app version, steps to reproduce, and whether it always "
            "happens. Search the known-incidents board before escalating; if it is there, link the ticket and "
            "use the *Known bug* macro.",
            "! Collect device, OS and app version\n"
            "! Collect steps to reproduce\n"
            "Search the known-incidents board\n"
            "Escalate to Engineering when new",
        ),
    },
    {
        "slug": "username-change",
        "title": "Username change",
        "category": "account",
        "queues": FRONT_LINE,
        "tags": ["nome-de-usuario", "username"],
        "pt": (
            "Troca de nome de usuário",
            "O app permite uma troca a cada 30 dias. Podemos liberar **uma** exceção por conta quando a troca "
            "anterior foi por engano (menos de 48 horas). Nomes que imitam marcas ou pessoas públicas não são "
            "liberados.",
            "! Confirmar que a última troca foi há menos de 48 horas\nLiberar a exceção no painel",
        ),
        "en": (
            "Username change",
            "The app allows one change every 30 days. We may grant **one** exception per account when the "
            "previous change was a mistake (under 48 hours ago). Names that imitate brands or public figures are "
            "never released.",
            "! Confirm the last change was under 48 hours ago\nGrant the exception in the console",
        ),
    },
    {
        "slug": "tone-and-greeting",
        "title": "Tone and greeting",
        "category": "general",
        "queues": FRONT_LINE,
        "tags": [],
        "pt": (
            "Tom e saudação",
            "Trate por *você*, use o primeiro nome, frases curtas. Comece reconhecendo o problema, diga o que "
            "foi feito e o que a pessoa precisa fazer, e termine com a assinatura da fila. Sem jargão interno "
            '("painel", "T&S").',
            "Usar o primeiro nome\nDizer o que foi feito e o próximo passo",
        ),
        "en": (
            "Tone and greeting",
            "Use the first name and short sentences. Start by acknowledging the problem, say what was done and "
            'what they need to do, and end with the queue\'s signature. No internal jargon ("console", "T&S").',
            "Use the first name\nSay what was done and the next step",
        ),
    },
    {
        "slug": "self-harm-risk",
        "title": "Self-harm risk",
        "category": "safety",
        "queues": [*FRONT_LINE, "trust-safety"],
        "tags": ["autolesao", "self-harm"],
        "pt": (
            "Risco de autolesão",
            "Se a mensagem indica risco imediato, **não espere**: prioridade urgente, escale para Trust & "
            "Safety e responda com a macro de acolhimento, que traz o CVV (188, 24 horas). Não prometa "
            "sigilo e não faça perguntas investigativas.",
            "! Marcar como urgente\n! Escalar para Trust & Safety\n! Enviar os contatos de apoio",
        ),
        "en": (
            "Self-harm risk",
            "If the message shows immediate risk, **do not wait**: urgent priority, escalate to Trust & Safety "
            "and reply with the support macro, which lists local crisis lines. Do not promise secrecy and do not "
            "ask probing questions.",
            "! Set priority to urgent\n! Escalate to Trust & Safety\n! Send the crisis line contacts",
        ),
    },
    {
        "slug": "child-safety",
        "title": "Child safety",
        "category": "safety",
        "queues": [*FRONT_LINE, "trust-safety"],
        "tags": ["seguranca-infantil", "child-safety"],
        "pt": (
            "Segurança infantil",
            "Uma criança ou adolescente pode estar em risco (aliciamento, pedido de fotos, chantagem, material "
            "de abuso). **Não baixe, não abra de novo, não encaminhe nem copie** o material, nem para colegas, "
            "nem para a polícia por e-mail: o chamado já está sob retenção legal e tudo fica preservado. "
            "Prioridade urgente e escalonamento para Trust & Safety, que faz a denúncia às autoridades (no "
            "Brasil, a SaferNet e a Polícia Federal). Agradeça a quem denunciou, diga que a equipe "
            "especializada está cuidando do caso, não prometa prazos nem resultados e não faça perguntas "
            "investigativas à criança. Se você ficou abalado, faça uma pausa e fale com sua liderança.",
            "! Não baixar nem encaminhar o material\n! Confirmar que o chamado está urgente e sob retenção legal\n"
            "! Escalar para Trust & Safety\nResponder agradecendo a denúncia, sem detalhes do caso",
        ),
        "en": (
            "Child safety",
            "A child or teenager may be at risk (grooming, requests for pictures, sextortion, abuse material). "
            "**Do not download, reopen, forward or copy** the material, not to a colleague and not to the "
            "police by email: the ticket is already under legal hold and everything is preserved. Urgent "
            "priority and escalation to Trust & Safety, who report it to the authorities (NCMEC in the US, "
            "SaferNet in Brazil). Thank the reporter, say the specialist team is on it, promise no timelines or "
            "outcomes and do not question the child. If it shook you, take a break and talk to your lead.",
            "! Do not download or forward the material\n! Check the ticket is urgent and under legal hold\n"
            "! Escalate to Trust & Safety\nReply thanking the reporter, with no details of the case",
        ),
    },
    {
        "slug": "data-request",
        "title": "Personal data request (LGPD/GDPR)",
        "category": "privacy",
        "queues": [*FRONT_LINE, "legal"],
        "tags": ["lgpd", "dados-pessoais", "gdpr", "data-request"],
        "pt": (
            "Pedido de dados pessoais (LGPD)",
            "Pedidos de cópia ou exclusão de dados têm prazo legal de **15 dias**. Confirme que o pedido vem "
            "do e-mail cadastrado, registre o tipo de pedido e encaminhe para a fila Legal. Não envie dados "
            "por e-mail: a cópia é baixada pelo próprio app.",
            "! Confirmar o e-mail cadastrado\n! Registrar o tipo de pedido e a data\nEncaminhar para Legal",
        ),
        "en": (
            "Personal data request (GDPR)",
            "Copy or deletion requests have a legal deadline (**one month** under GDPR, 15 days under LGPD). "
            "Confirm the request comes from the registered email, record the request type and forward to the "
            "Legal queue. Never email data: the copy is downloaded in the app.",
            "! Confirm the registered email\n! Record the request type and date\nForward to Legal",
        ),
    },
    {
        "slug": "coin-purchase-refund",
        "title": "Coin purchase refund",
        "category": "payments",
        "queues": FRONT_LINE,
        "tags": ["reembolso", "refund"],
        "pt": (
            "Reembolso de moedas",
            "Moedas compradas pelo app são cobradas pela loja (Google Play ou App Store). Explique que o "
            "reembolso é pedido na loja; nós só estornamos compras feitas pelo site, em até 7 dias e se as "
            "moedas não foram usadas.",
            "! Confirmar onde a compra foi feita\nConferir se as moedas foram usadas",
        ),
        "en": (
            "Coin purchase refund",
            "Coins bought in the app are charged by the store (Google Play or App Store). Explain that the "
            "refund is requested from the store; we only refund web purchases, within 7 days and if the coins "
            "are unused.",
            "! Confirm where the purchase was made\nCheck whether the coins were used",
        ),
    },
]

# Later versions, to show history, diffs and a must-read acknowledgement: (slug, language, text, summary).
REVISIONS = [
    (
        "hacked-account",
        "pt",
        (
            "Conta invadida",
            "A prioridade é **parar o dano**: bloqueie a conta antes de qualquer outra coisa.\n\n"
            "## Passos\n"
            "1. Bloqueie temporariamente o perfil no painel (ação *Bloquear por segurança*).\n"
            "2. Confirme a identidade: e-mail original da conta, data aproximada de criação, último "
            "dispositivo usado **e a cidade do último login legítimo**.\n"
            "3. Envie o link seguro de recuperação **para o e-mail original**, nunca para um novo.\n"
            "4. Encerre todas as sessões abertas e revogue os apps conectados.\n"
            "5. Remova os vídeos postados pelo invasor e registre os IDs numa nota interna.\n"
            "6. Se a pessoa não conseguir provar a titularidade, escale para **Account Security**.\n\n"
            "Não peça senha, código ou foto de documento por e-mail.",
            "! Bloquear o perfil por segurança\n"
            "! Confirmar a identidade com o e-mail original e a cidade do último login\n"
            "! Enviar o link seguro para o e-mail original\n"
            "! Encerrar sessões e revogar apps conectados\n"
            "Remover o conteúdo postado pelo invasor\n"
            "Registrar os IDs removidos em nota interna",
        ),
        "Novo passo: encerrar sessões e revogar apps; cidade do último login na verificação",
    ),
    (
        "hacked-account",
        "en",
        (
            "Hacked account",
            "The priority is to **stop the damage**: lock the account before anything else.\n\n"
            "## Steps\n"
            "1. Temporarily lock the profile in the console (*Security lock* action).\n"
            "2. Verify identity: the account's original email, rough creation date, last device used **and the "
            "city of the last legitimate sign-in**.\n"
            "3. Send the secure recovery link **to the original email**, never to a new one.\n"
            "4. End all open sessions and revoke connected apps.\n"
            "5. Remove the videos the intruder posted and list their IDs in an internal note.\n"
            "6. If the person cannot prove ownership, escalate to **Account Security**.\n\n"
            "Never ask for a password, a code or an ID photo by email.",
            "! Security-lock the profile\n"
            "! Verify identity with the original email and last sign-in city\n"
            "! Send the secure link to the original email\n"
            "! End sessions and revoke connected apps\n"
            "Remove content posted by the intruder\n"
            "List the removed IDs in an internal note",
        ),
        "New step: end sessions and revoke apps; last sign-in city in verification",
    ),
]

# (name, sop slug, pt body, en body, actions)
MACROS = [
    ("Conta invadida — link seguro / Hacked — secure link", "hacked-account",
     "Oi, {{ requester.first_name }}! Sinto muito pelo susto. Já bloqueamos o seu perfil por segurança e "
     "enviamos um link seguro de recuperação para o e-mail original da conta. Depois de entrar, troque a senha "
     "e ative a verificação em duas etapas.\n\nQualquer dúvida, é só responder este e-mail (chamado "
     "#{{ ticket.number }}).\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, I'm sorry this happened. We've locked your profile for safety and sent a "
     "secure recovery link to the account's original email. Once you're in, change your password and turn on "
     "two-step verification.\n\nJust reply to this email if you need anything (ticket #{{ ticket.number }}).\n\n"
     "{{ agent.first_name }}",
     {"set_status": "pending", "add_tags": ["link-enviado"]}),
    ("Recuperação — código por e-mail / Recovery — code by email", "account-recovery",
     "Oi, {{ requester.first_name }}! Enviamos um código de verificação para o seu e-mail; ele vale por 10 "
     "minutos. Se não aparecer, confira a caixa de spam.\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, we've emailed you a verification code; it is valid for 10 minutes. If you "
     "can't see it, please check your spam folder.\n\n{{ agent.first_name }}",
     {"set_status": "pending"}),
    ("Idade — pedir documento / Age — ask for ID", "age-appeal",
     "Oi, {{ requester.first_name }}! Para revisar a suspensão, precisamos confirmar sua idade. Responda a este "
     "e-mail com uma foto de um documento em que a data de nascimento esteja visível; você pode cobrir o resto. "
     "Apagamos o documento assim que a revisão termina.\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, to review the suspension we need to confirm your age. Please reply with a "
     "photo of an ID where the date of birth is visible; feel free to cover everything else. We delete it as "
     "soon as the review is done.\n\n{{ agent.first_name }}",
     {"set_status": "pending", "add_tags": ["aguardando-documento"]}),
    ("Idade — suspensão mantida / Age — suspension upheld", "age-appeal",
     "Oi, {{ requester.first_name }}. Revisamos o documento e, infelizmente, a conta não atende à idade mínima "
     "de 13 anos dos nossos Termos, por isso a suspensão foi mantida. O documento já foi apagado.\n\n"
     "{{ agent.first_name }}",
     "Hi {{ requester.first_name }}. We reviewed the ID and, unfortunately, the account does not meet the "
     "minimum age of 13 in our Terms, so the suspension stands. The ID has been deleted.\n\n{{ agent.first_name }}",
     {"set_status": "solved"}),
    ("Vídeo restaurado / Video restored", "content-removal-appeal",
     "Oi, {{ requester.first_name }}! Revisamos o seu vídeo e ele foi removido por engano pelo nosso sistema "
     "automático. Ele já está de volta no seu perfil. Desculpe o transtorno!\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, we reviewed your video and it was removed by mistake by our automated "
     "system. It's back on your profile now. Sorry for the trouble!\n\n{{ agent.first_name }}",
     {"set_status": "solved", "add_tags": ["restaurado"]}),
    ("Assédio — pedir links / Harassment — ask for links", "harassment-report",
     "Oi, {{ requester.first_name }}. Sentimos muito que você esteja passando por isso. Para agirmos rápido, "
     "envie os links dos comentários ou dos perfis (no app: Compartilhar > Copiar link). Enquanto isso, você "
     "pode ativar o filtro de comentários em Configurações > Privacidade.\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, we're sorry you're going through this. So we can act quickly, please send "
     "the links to the comments or profiles (in the app: Share > Copy link). Meanwhile you can turn on the "
     "comment filter under Settings > Privacy.\n\n{{ agent.first_name }}",
     {"set_priority": 3}),
    ("Pagamento devolvido / Payout returned", "creator-payment-issue",
     "Oi, {{ requester.first_name }}! O pagamento foi devolvido pelo banco por divergência nos dados "
     "cadastrados. Atualize os dados bancários no painel de criadores e faremos um novo envio no próximo ciclo.\n\n"
     "{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, the payout was returned by your bank because the registered details did not "
     "match. Please update your bank details in the creator dashboard and we'll resend it in the next cycle.\n\n"
     "{{ agent.first_name }}",
     {"set_status": "pending"}),
    ("Bug — pedir detalhes / Bug — ask for details", "bug-report",
     "Oi, {{ requester.first_name }}! Obrigado por avisar. Para a nossa equipe investigar, conte: o modelo do "
     "aparelho, a versão do sistema, a versão do app (Perfil > Configurações > Sobre) e o passo a passo até o "
     "erro.\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, thanks for letting us know. So our team can look into it, please tell us "
     "your device model, OS version, app version (Profile > Settings > About) and the steps that lead to the "
     "error.\n\n{{ agent.first_name }}",
     {"set_status": "pending"}),
    ("Bug conhecido / Known bug", "bug-report",
     "Oi, {{ requester.first_name }}! Nossa equipe de Engenharia já identificou esse problema e a correção sai "
     "na próxima atualização do app. Obrigado pela paciência!\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, our Engineering team has already found this problem and the fix ships in "
     "the next app update. Thanks for your patience!\n\n{{ agent.first_name }}",
     {"set_status": "solved", "add_tags": ["bug-conhecido"]}),
    ("Acolhimento — risco / Support — risk", "self-harm-risk",
     "Oi, {{ requester.first_name }}. Obrigado por confiar em nós. Você não está sozinho: o CVV atende 24 horas "
     "pelo telefone 188 ou pelo chat em cvv.org.br. Nossa equipe especializada vai cuidar do seu caso agora.\n\n"
     "{{ agent.first_name }}",
     "Hi {{ requester.first_name }}. Thank you for reaching out. You are not alone: please contact your local "
     "crisis line (in the US, call or text 988). Our specialist team is looking at your message now.\n\n"
     "{{ agent.first_name }}",
     {"set_priority": 4}),
    ("Nome de usuário liberado / Username unlocked", "username-change",
     "Oi, {{ requester.first_name }}! Liberamos a troca para você: já pode escolher o nome antigo nas "
     "configurações do perfil.\n\n{{ agent.first_name }}",
     "Hi {{ requester.first_name }}, we've unlocked the change for you: you can pick your old username in your "
     "profile settings now.\n\n{{ agent.first_name }}",
     {"set_status": "solved"}),
]  # fmt: skip
